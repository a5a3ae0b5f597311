-- POST a random JSON body from VC_WRK_BODIES (one body a line) to VC_WRK_PATH.
package.path = os.getenv("VC_WRK_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local bodies = common.lines("VC_WRK_BODIES")
local path = os.getenv("VC_WRK_PATH")
wrk.headers["Content-Type"] = "application/json"

function request()
  return wrk.format("POST", path, nil, common.pick(bodies))
end
