-- wrk script for bench/reads.sh. READ=history: GET /consumers/{id}/orders with keywords and
-- status, the consumer at random from the file CONSUMERS (one id per line);
-- READ=available: GET /restaurants/available at a random point over Europe.
local kind = os.getenv("READ") or "history"
local consumers = {}
if kind == "history" then
  for line in io.lines(os.getenv("CONSUMERS")) do consumers[#consumers + 1] = line end
end
local tid = 0
function setup(thread) tid = tid + 1; thread:set("tid", tid) end
function init(args) math.randomseed(os.time() * 100 + wrk.thread:get("tid")) end
request = function()
  if kind == "history" then
    local id = consumers[math.random(#consumers)]
    return wrk.format("GET", "/consumers/" .. id .. "/orders?keywords=pizza,curry&status=APPROVAL_PENDING")
  end
  local lat = 36 + math.random() * 24
  local lon = -9 + math.random() * 33
  return wrk.format("GET", string.format("/restaurants/available?lat=%.4f&lon=%.4f&at=2027-03-01T19:00:00Z", lat, lon))
end
