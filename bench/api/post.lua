-- wrk script: POST /api/v1/tasks with the seed's body and the key from SX_API_KEY.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("SX_API_KEY")
wrk.body = '{"url":"https://jobs.example.com/apply","navigation_goal":"Apply for a job",' ..
  '"data_extraction_goal":"Was the job application successful?","proxy_location":"RESIDENTIAL",' ..
  '"navigation_payload":{"name":"Chris P. Bacon","email":"chris@pbacon.com"}}'
