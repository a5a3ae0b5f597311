-- Shared by the benchmark scripts: read a file of lines named by an environment variable.
-- wrk runs each script in several Lua states (one to check the request, one per thread) and
-- calls init() only on some of them, so configuration comes from the environment, read at load.
local M = {}

function M.lines(var)
  local path = os.getenv(var)
  assert(path, var .. " is not set")
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  assert(#out > 0, path .. " is empty")
  return out
end

function M.pick(list)
  return list[math.random(#list)]
end

math.randomseed(os.time())
return M
