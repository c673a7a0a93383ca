-- wrk script: POST /v1/dossiers/{id}/check, a random dossier per request, signed in.
-- Usage: wrk ... -s bench/check.lua http://HOST:PORT -- IDS_FILE TOKEN

local thread_count = 0

function setup(thread)
  thread:set("thread_number", thread_count)
  thread_count = thread_count + 1
end

local ids = {}
local headers = {}

function init(args)
  local path = args[1] or error("check.lua needs the ids file: -- IDS_FILE TOKEN")
  for line in io.lines(path) do
    if line ~= "" then
      ids[#ids + 1] = line
    end
  end
  if #ids == 0 then
    error("no id in " .. path)
  end
  local token = args[2] or error("check.lua needs an access token: -- IDS_FILE TOKEN")
  headers["Authorization"] = "Bearer " .. token
  math.randomseed(os.time() + 7919 * (thread_number or 0))
end

function request()
  return wrk.format("POST", "/v1/dossiers/" .. ids[math.random(#ids)] .. "/check", headers)
end
