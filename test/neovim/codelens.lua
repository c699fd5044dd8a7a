-- Drives Neovim (headless) through `nn lsp`: opens a model, runs its ▶ Train code lens the
-- way a user does (:lua vim.lsp.codelens.run() on the lens's line, picking ▶ Train), and
-- records the `$/progress` reports and the `window/showMessage` the run ends with.
-- Arguments (vim.g): nn_cli (dist/cli.js), nn_file (the .nn file), nn_out (a JSON report).
local cli, file, out = vim.g.nn_cli, vim.g.nn_file, vim.g.nn_out
local report = { progress = {}, messages = {}, lenses = {}, errors = {} }
local finished = false

local function save()
  local f = io.open(out, 'w')
  f:write(vim.fn.json_encode(report))
  f:close()
end

vim.lsp.handlers['$/progress'] = function(_, result)
  table.insert(report.progress, result.value)
end
vim.lsp.handlers['window/showMessage'] = function(_, result)
  table.insert(report.messages, result)
  finished = true
end
vim.notify = function(message) table.insert(report.errors, message) end

local ok, problem = pcall(function()
  local client_id = vim.lsp.start_client({
    name = 'nn',
    cmd = { 'node', cli, 'lsp' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
  })
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  vim.lsp.buf_attach_client(0, client_id)

  -- Only once the server has answered `initialize`: Neovim 0.7 asks for lenses once at a time and
  -- never again after a request no server could take.
  local ready = vim.wait(30000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.server_capabilities ~= nil
  end, 100)
  if not ready then error('the server did not initialize') end
  local train
  vim.wait(30000, function()
    vim.lsp.codelens.refresh()
    for _, lens in ipairs(vim.lsp.codelens.get(0)) do
      if lens.command and lens.command.title == '▶ Train' then train = lens end
    end
    return train ~= nil
  end, 300)
  for _, lens in ipairs(vim.lsp.codelens.get(0)) do table.insert(report.lenses, lens.command and lens.command.title or '') end
  if not train then error('no ▶ Train code lens') end

  -- ▶ Train and ∇ Probe share the line: codelens.run() asks which one, and the user picks ▶ Train.
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      if opts.format_item(item) == '▶ Train' then return on_choice(item) end
    end
    on_choice(nil)
  end
  vim.api.nvim_win_set_cursor(0, { train.range.start.line + 1, 0 })
  vim.lsp.codelens.run()
  if not vim.wait(120000, function() return finished end, 100) then error('no message at the end of the run') end
end)
if not ok then table.insert(report.errors, tostring(problem)) end
save()
vim.cmd('qa!')
