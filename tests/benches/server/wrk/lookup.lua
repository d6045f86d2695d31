-- POST /_matrix/identity/v2/lookup with the bodies of a file (one JSON body a line), cycled
-- through; each thread starts at its own place. Arguments: <access token> <bodies file>.
local path = "/_matrix/identity/v2/lookup"

function init(args)
  local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[1] }
  requests = {}
  for line in io.lines(args[2]) do
    table.insert(requests, wrk.format("POST", path, headers, line))
  end
  index = id * 37
end

function request()
  index = index % #requests + 1
  return requests[index]
end
