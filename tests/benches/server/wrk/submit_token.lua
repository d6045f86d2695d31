-- POST .../validate/email/submitToken, each prepared submission once (one JSON body a line;
-- thread <id> of <threads> takes lines id, id + threads, ...). A thread stops once its last
-- submission is answered. Every answer must be 200 with "success":true.
-- Arguments: <access token> <submissions file> <threads>.
--
-- Once a connection has nothing left to submit it sends `GET /_matrix/identity/v2` instead (a
-- request() must return a request), whose answers are not counted. wrk also calls request() once
-- before the run to check the script: that first call gets one of those too.
local path = "/_matrix/identity/v2/validate/email/submitToken"

function init(args)
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1] }
  local threads = tonumber(args[3])
  requests = {}
  local line_number = 0
  for line in io.lines(args[2]) do
    if line_number % threads == id then
      table.insert(requests, wrk.format("POST", path, headers, line))
    end
    line_number = line_number + 1
  end
  filler = wrk.format("GET", "/_matrix/identity/v2")
  sent, answered, bad, primed = 0, 0, 0, false
end

function request()
  if not primed then
    primed = true
    return filler
  end
  if sent < #requests then
    if sent == 0 then first_us = now_us() end
    sent = sent + 1
    return requests[sent]
  end
  if answered >= #requests then wrk.thread:stop() end
  return filler
end

function response(status, headers, body)
  if status == 200 and not string.find(body, '"success"', 1, true) then
    return -- a filler's answer
  end
  answered = answered + 1
  last_us = now_us()
  if status ~= 200 or not string.find(body, '"success":true', 1, true) then
    bad = bad + 1
    if sample == nil then sample = status .. " " .. body end
  end
  if answered >= #requests then wrk.thread:stop() end
end
