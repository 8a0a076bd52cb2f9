-- lstm-complete in Neovim 0.7 to 0.9, which have no vim.lsp.start: one server per working
-- folder, started with vim.lsp.start_client, and every Python buffer attached to it.
--
-- Save this file as lua/lstm_complete.lua in your Neovim config folder, then in init.lua:
--   require("lstm_complete").setup({ settings = { numSuggestions = 5 } })
-- `settings` takes the server's settings (see the README); `cmd` replaces the command, for
-- example { "/path/to/venv/bin/lstm-complete", "serve", "--stdio" }.
-- In insert mode, <C-x><C-o> shows the completion list.
local M = {}

function M.setup(opts)
  opts = opts or {}
  local clients = {} -- working folder -> client id
  vim.api.nvim_create_autocmd("FileType", {
    group = vim.api.nvim_create_augroup("lstm-complete", { clear = true }),
    pattern = "python",
    callback = function(args)
      local root = vim.fn.getcwd()
      local id = clients[root]
      if id == nil or vim.lsp.get_client_by_id(id) == nil then
        id = vim.lsp.start_client({
          name = "lstm-complete",
          cmd = opts.cmd or { "lstm-complete", "serve", "--stdio" },
          root_dir = root,
          -- an empty Lua table would be sent as [], which is not a settings object
          init_options = opts.settings or vim.empty_dict(),
        })
        clients[root] = id
      end
      vim.lsp.buf_attach_client(args.buf, id)
      vim.bo[args.buf].omnifunc = "v:lua.vim.lsp.omnifunc"
    end,
  })
end

return M
