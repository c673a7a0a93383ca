-- wrk script: GET the URL given to wrk with a bearer token.
-- Usage: wrk ... -s bench/get.lua http://HOST:PORT/PATH -- TOKEN

local headers

function init(args)
  local token = args[1] or error("get.lua needs an access token: -- TOKEN")
  headers = { ["Authorization"] = "Bearer " .. token }
end

function request()
  return wrk.format("GET", nil, headers)
end
