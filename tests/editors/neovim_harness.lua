-- Drives Neovim's own LSP client against lstm-complete for tests/editors/test_neovim.py.
-- The test's init.lua sets up the documented config (examples/editors/neovim-0.7.lua), Neovim
-- opens the Python file named on its command line (which starts the server and attaches the
-- buffer), and at VimEnter this file's function runs with the test's parameters. What the
-- server answered, or the error that stopped the run, is written as JSON to params.out; then
-- Neovim quits.

local function wait_for(what, timeout_ms, ready)
  if not vim.wait(timeout_ms, ready, 20) then
    error("timed out waiting for " .. what)
  end
end

local function our_client()
  for _, client in ipairs(vim.lsp.get_active_clients()) do
    if client.name == "lstm-complete" then
      return client
    end
  end
end

-- Neovim 0.7 keeps $/progress for status lines (vim.lsp.util.get_progress_messages); the
-- record shows what a user would see.
local function record_progress(out)
  local show = vim.lsp.handlers["$/progress"]
  vim.lsp.handlers["$/progress"] = function(err, result, ctx, config)
    table.insert(out, { kind = result.value.kind, title = result.value.title })
    return show(err, result, ctx, config)
  end
end

-- One request's answer, in a form JSON keeps: a null result stays null (nil would drop it).
local function answer(err, result)
  return { err = err or vim.NIL, result = result == nil and vim.NIL or result }
end

local function only_answer(responses)
  local _, response = next(responses or {})
  if response == nil then
    error("no answer from the server")
  end
  return answer(response.err or response.error, response.result)
end

local function run(params, results)
  local buf = vim.api.nvim_get_current_buf()
  results.filetype = vim.bo[buf].filetype

  local client
  wait_for("the client to start", 10000, function()
    client = our_client()
    return client ~= nil and client.initialized
  end)
  results.pid = client.rpc.pid
  wait_for("the client to attach", 5000, function()
    return vim.lsp.buf_is_attached(buf, client.id)
  end)

  -- Ready once the model is loaded and the workspace indexed: its progress has ended.
  local function progress_ended()
    for _, p in ipairs(results.progress) do
      if p.kind == "end" then
        return true
      end
    end
    return false
  end
  wait_for("the model's progress to end", 60000, progress_ended)
  local status = client.request_sync(
    "workspace/executeCommand",
    { command = "lstm-complete.status", arguments = {} },
    5000,
    buf
  )
  status = status and status.result
  if status == nil or status.state ~= "ready" then
    error("the server is not ready: " .. vim.inspect(status))
  end
  results.status = status

  -- The file on disk is complete; as if typing a new line, the rest of the line is deleted
  -- in the buffer (unsaved) and suggestions are asked for at its end.
  local uri = vim.uri_from_bufnr(buf)
  local position = params.position
  local text = vim.api.nvim_buf_get_lines(buf, position.line, position.line + 1, true)[1]
  vim.api.nvim_buf_set_text(buf, position.line, position.character, position.line, #text, { "" })
  results.completion = only_answer(vim.lsp.buf_request_sync(buf, "textDocument/completion", {
    textDocument = { uri = uri },
    position = position,
  }, 20000))
  results.inline = only_answer(vim.lsp.buf_request_sync(buf, "textDocument/inlineCompletion", {
    textDocument = { uri = uri },
    position = position,
    context = { triggerKind = 1 }, -- Invoked
  }, 20000))

  -- Typing: take the typed text off the line, then put it back a character at a time, asking
  -- for completions after each keystroke without waiting, as an editor that completes while
  -- you type does. Each request first sends the edit before it (Neovim flushes changes).
  local typed = params.typed
  local line, start = position.line, position.character - #typed
  vim.api.nvim_buf_set_text(buf, line, start, line, position.character, { "" })
  local burst = {}
  for i = 1, #typed do
    vim.api.nvim_buf_set_text(buf, line, start + i - 1, line, start + i - 1, { typed:sub(i, i) })
    client.request("textDocument/completion", {
      textDocument = { uri = uri },
      position = { line = line, character = start + i },
    }, function(err, result)
      burst[i] = answer(err, result)
    end, buf)
  end
  wait_for("every keystroke's answer", 30000, function()
    for i = 1, #typed do
      if burst[i] == nil then
        return false
      end
    end
    return true
  end)
  results.burst = burst
  results.line = vim.api.nvim_buf_get_lines(buf, line, line + 1, true)[1]

  vim.lsp.stop_client(client.id)
  wait_for("the client to stop", 10000, function()
    return client.is_stopped()
  end)
end

local function finish(params, results)
  local ok, err = xpcall(run, debug.traceback, params, results)
  if not ok then
    results.error = err
  end
  local file = assert(io.open(params.out, "w"))
  file:write(vim.fn.json_encode(results))
  file:close()
  vim.cmd(ok and "qall!" or "cquit!")
end

-- Called from init.lua, before the server starts, so that no progress goes unrecorded.
return function(params)
  local results = { progress = {} }
  record_progress(results.progress)
  vim.api.nvim_create_autocmd("VimEnter", {
    once = true,
    callback = function()
      finish(params, results)
    end,
  })
end
