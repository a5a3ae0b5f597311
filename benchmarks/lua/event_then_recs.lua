-- POST /v1/events (a view of a random item) then GET that customer's recommendations, sent
-- pipelined on one connection: the server answers them in order, so the GET sees the event.
-- wrk counts both responses in req/s and records one latency for the pair.
-- VC_WRK_IDS: customer ids, VC_WRK_ITEMS: item ids (one a line).
package.path = os.getenv("VC_WRK_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local customers = common.lines("VC_WRK_IDS")
local items = common.lines("VC_WRK_ITEMS")
-- Set on wrk.headers (not passed per request) so that -H headers such as X-API-Key stay.
wrk.headers["Content-Type"] = "application/json"

function request()
  local cid = common.pick(customers)
  local body = string.format(
    '{"customer_id":"%s","item_id":"%s","event_type":"view"}', cid, common.pick(items))
  local post = wrk.format("POST", "/v1/events", nil, body)
  return post .. wrk.format("GET", "/v1/customers/" .. cid .. "/recommendations?k=10")
end
