-- GET a path with "{id}" replaced by a random id: VC_WRK_IDS (file, one id a line), VC_WRK_PATH.
package.path = os.getenv("VC_WRK_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local ids = common.lines("VC_WRK_IDS")
local template = os.getenv("VC_WRK_PATH")

function request()
  local id = common.pick(ids)
  return wrk.format("GET", template:gsub("{id}", function() return id end), nil, nil)
end
