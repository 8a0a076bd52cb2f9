-- lstm-complete in Neovim 0.10 and newer: put this in init.lua (or a file it requires).
-- init_options takes the server's settings (see the README); replace the command with a full
-- path, e.g. "/path/to/venv/bin/lstm-complete", if it is not on PATH.
local cmd = { "lstm-complete", "serve", "--stdio" }
local init_options = { numSuggestions = 5 }

if vim.fn.has("nvim-0.11") == 1 then
  -- 0.11: declare the server once; Neovim starts it for Python buffers, one per project root.
  -- (nvim-lspconfig builds on the same vim.lsp.config on 0.11, so this works beside it.)
  vim.lsp.config("lstm_complete", {
    cmd = cmd,
    filetypes = { "python" },
    root_markers = { ".git", "pyproject.toml", "setup.py" },
    init_options = init_options,
  })
  vim.lsp.enable("lstm_complete")
else
  -- 0.10: vim.lsp.start reuses the running client with the same name and root folder.
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "python",
    callback = function(args)
      vim.lsp.start({
        name = "lstm_complete",
        cmd = cmd,
        root_dir = vim.fs.root(args.buf, { ".git", "pyproject.toml", "setup.py" }) or vim.fn.getcwd(),
        init_options = init_options,
      }, { bufnr = args.buf })
    end,
  })
end

vim.api.nvim_create_autocmd("LspAttach", {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client == nil or client.name ~= "lstm_complete" then
      return
    end
    if vim.lsp.completion then
      -- 0.11: the completion list opens by itself as you type (the server's trigger characters).
      vim.lsp.completion.enable(true, client.id, args.buf, { autotrigger = true })
    else
      -- 0.10: <C-x><C-o> opens the completion list.
      vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
    end
    if vim.lsp.inline_completion then
      -- 0.12: the suggestion shows as ghost text after the cursor; <Tab> accepts it.
      vim.lsp.inline_completion.enable(true, { bufnr = args.buf })
      vim.keymap.set("i", "<Tab>", function()
        if not vim.lsp.inline_completion.get() then
          return "<Tab>"
        end
      end, { expr = true, buffer = args.buf, desc = "Accept the lstm-complete suggestion" })
    end
  end,
})
