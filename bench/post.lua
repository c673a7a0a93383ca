-- wrk script: POST /v1/structures with a JSON body.
-- Usage: wrk ... -s bench/post.lua http://HOST:PORT/v1/structures -- 'JSON BODY' TOKEN
-- The body comes from run.sh, which also sends it once with curl to check it is accepted.

local body, headers

function init(args)
  body = args[1] or error("post.lua needs the JSON body: -- 'BODY' TOKEN")
  local token = args[2] or error("post.lua needs an access token: -- 'BODY' TOKEN")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
end

function request()
  -- A nil path means the path of the URL given to wrk.
  return wrk.format("POST", nil, headers, body)
end
