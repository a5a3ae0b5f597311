-- "Event then recommendations" as separate requests, one latency each: requests alternate
-- between POST /v1/events (a view of a random item by a random customer) and GET
-- .../recommendations?k=10 of a customer whose event POST the server has already answered
-- (202). wrk records one latency per request, so p50/p99 are per request over the 50/50 mix
-- and req/s counts both kinds. Answered events are matched to customers first-in first-out;
-- with several connections an answer can overtake an earlier POST, so now and then a GET may
-- run a few ms before its own customer's event is written (the load is the same either way).
-- Before any event was answered, the first requests are POSTs.
-- VC_WRK_IDS: customer ids, VC_WRK_ITEMS: item ids (one a line).
package.path = os.getenv("VC_WRK_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local customers = common.lines("VC_WRK_IDS")
local items = common.lines("VC_WRK_ITEMS")
-- Set on wrk.headers (not passed per request) so that -H headers such as X-API-Key stay.
wrk.headers["Content-Type"] = "application/json"

local sent = {}      -- customers whose POST is in flight, oldest first
local answered = {}  -- customers whose POST was answered, oldest first
local post_next = true

local function push(q, v) q[#q + 1] = v end
local function shift(q) return table.remove(q, 1) end

function request()
  if post_next or #answered == 0 then
    post_next = false
    local cid = common.pick(customers)
    push(sent, cid)
    local body = string.format(
      '{"customer_id":"%s","item_id":"%s","event_type":"view"}', cid, common.pick(items))
    return wrk.format("POST", "/v1/events", nil, body)
  end
  post_next = true
  return wrk.format("GET", "/v1/customers/" .. shift(answered) .. "/recommendations?k=10")
end

function response(status, headers, body)
  if status == 202 and #sent > 0 then
    push(answered, shift(sent))
  end
end
