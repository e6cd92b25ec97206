-- wrk script: POST /reservations with distinct bodies (bench/throughput.sh, bench/lag.py).
-- ROOMS: comma-separated room ids to reserve; DELAY_MS: mean pause of each connection
-- between its requests (0: as fast as it can), to hold a chosen request rate. The pauses
-- are drawn at random (exponentially distributed), as independent clients' would be: a
-- fixed pause keeps connections that started together in step, sending in bursts.
local rooms = {}
for id in string.gmatch(os.getenv("ROOMS") or "", "[^,]+") do rooms[#rooms + 1] = id end
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local tid = 0
function setup(thread) tid = tid + 1; thread:set("tid", tid) end
function init(args) math.randomseed(os.time() * 100 + wrk.thread:get("tid")) end
if pause > 0 then
  function delay() return math.floor(-pause * math.log(1 - math.random())) end
end
-- AUTHORIZATION: the Authorization header to send (bench/throughput.sh with AUTH=on).
local headers = {["Content-Type"] = "application/json", ["Authorization"] = os.getenv("AUTHORIZATION")}
request = function()
  local n = math.random(1, 1000000000)
  local m = n % 60
  local h = math.floor(n / 60) % 24
  local d = math.floor(n / 1440) % 28 + 1
  local y = 2100 + math.floor(n / 40320) % 5000
  local body = string.format(
    '{"room_id":"%s","user_id":"tp-%d","start":"%04d-01-%02dT%02d:%02d:00Z","end":"%04d-01-%02dT%02d:%02d:30Z"}',
    rooms[math.random(#rooms)], n % 1000, y, d, h, m, y, d, h, m)
  return wrk.format("POST", "/reservations", headers, body)
end
