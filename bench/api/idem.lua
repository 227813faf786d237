-- wrk script: POST /api/v1/tasks with the seed's body, the key from SX_API_KEY,
-- and a new Idempotency-Key on every request (<run>-<thread>-<n>), so each
-- create claims a key and stores a task.
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  prefix = os.getenv("SX_BENCH_RUN") .. "-" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["x-api-key"] = os.getenv("SX_API_KEY"),
    ["Idempotency-Key"] = prefix .. counter,
  }, '{"url":"https://jobs.example.com/apply","navigation_goal":"Apply for a job",' ..
  '"data_extraction_goal":"Was the job application successful?","proxy_location":"RESIDENTIAL",' ..
  '"navigation_payload":{"name":"Chris P. Bacon","email":"chris@pbacon.com"}}')
end
