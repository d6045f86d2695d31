-- POST .../validate/email/requestToken, a new address and client secret every time:
-- bench.<tag>.<thread>.<n>@example.org. Arguments: <access token> <tag>.
local path = "/_matrix/identity/v2/validate/email/requestToken"

function init(args)
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1] }
  tag = args[2]
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"client_secret":"s.%s.%d.%d","email":"bench.%s.%d.%d@example.org","send_attempt":"1"}',
    tag, id, counter, tag, id, counter)
  return wrk.format("POST", path, headers, body)
end
