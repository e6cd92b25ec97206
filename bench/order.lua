-- wrk script: POST /orders with distinct bodies (bench/throughput.sh COMMAND=orders).
-- CONSUMERS, RESTAURANTS: comma-separated ids; every restaurant has menu items m1 and m2.
local function ids(name)
  local found = {}
  for id in string.gmatch(os.getenv(name) or "", "[^,]+") do found[#found + 1] = id end
  return found
end
local consumers, restaurants = ids("CONSUMERS"), ids("RESTAURANTS")
local tid = 0
function setup(thread) tid = tid + 1; thread:set("tid", tid) end
function init(args) math.randomseed(os.time() * 100 + wrk.thread:get("tid")) end
-- AUTHORIZATION: the Authorization header to send (bench/throughput.sh with AUTH=on).
local headers = {["Content-Type"] = "application/json", ["Authorization"] = os.getenv("AUTHORIZATION")}
request = function()
  local body = string.format(
    '{"consumer_id":"%s","restaurant_id":"%s","line_items":[{"menu_item_id":"m1","quantity":1},{"menu_item_id":"m2","quantity":%d}],"delivery_address":"tp %d"}',
    consumers[math.random(#consumers)], restaurants[math.random(#restaurants)], math.random(1, 3), math.random(1, 1000000))
  return wrk.format("POST", "/orders", headers, body)
end
