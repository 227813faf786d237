-- wrk script: GET with the key from SX_API_KEY (the path is given on the command line).
wrk.headers["x-api-key"] = os.getenv("SX_API_KEY")
