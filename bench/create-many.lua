-- wrk script: POST /v1/structures COUNT times in all, then stop (a setup step, not a
-- measure): the signed-in account becomes the owner of COUNT more structures.
-- Usage: wrk -tT ... -s bench/create-many.lua http://HOST:PORT/v1/structures -- 'BODY' TOKEN COUNT T
-- Each of the T threads stops after COUNT / T created; requests still in flight when a
-- thread stops may add a few more.

local body, headers, quota
local created = 0

function init(args)
  body = args[1] or error("create-many.lua needs: -- 'BODY' TOKEN COUNT THREADS")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2] }
  quota = math.ceil(tonumber(args[3]) / tonumber(args[4]))
end

function request()
  return wrk.format("POST", nil, headers, body)
end

-- A refusal stops the thread too: run.sh counts the memberships made afterwards.
function response(status)
  if status == 201 then
    created = created + 1
  end
  if status ~= 201 or created >= quota then
    wrk.thread:stop()
  end
end
