-- wrk script: POST /v1/structures with a JSON body.
-- Usage: wrk ... -s bench/post.lua http://HOST:PORT/v1/structures -- 'JSON BODY'
-- The body comes from run.sh, which also sends it once with curl to check it is accepted.

local body

function init(args)
  body = args[1] or error("post.lua needs the JSON body: -- 'BODY'")
end

function request()
  -- A nil path means the path of the URL given to wrk.
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
