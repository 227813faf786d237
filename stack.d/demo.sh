#!/usr/bin/env bash
# stack.d/demo.sh: what `./stack up` shows at the end, against the running
# stack (values from var/stack.env).  JSON is written and read by python3's
# json module, never by hand.
#   example  create a task on the product fixture page and read it back (no
#            language model needed: the task stays queued without an agent)
#   task     the seed's job application on the job fixture page, followed
#            until it finishes; without a model configured, says how to
#            configure one instead
# Alone: stack.d/demo.sh example|task
set -euo pipefail
# shellcheck source=stack.d/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Prints the compact JSON body of the demo's task request for fixture page $2
# (product or job) of the stack at $1.
demo_body() {
	python3 - "$@" <<-'PY'
		import json, sys
		base, page = sys.argv[1], sys.argv[2]
		body = {"url": base + "/sites/" + page + "/index.html"}
		if page == "job":
		    body["navigation_goal"] = "Apply for a job"
		    body["data_extraction_goal"] = "Was the job application successful?"
		else:
		    body["data_extraction_goal"] = "What does the product cost?"
		body["proxy_location"] = "RESIDENTIAL"
		if page == "job":
		    body["navigation_payload"] = {"name": "Chris P. Bacon", "email": "chris@pbacon.com"}
		print(json.dumps(body, separators=(",", ":")))
	PY
}

# Prints member $1 of the JSON object on stdin when it is a string, else
# nothing (also for a body that is not JSON).
json_string() {
	python3 -c 'import json, sys
try:
    v = json.load(sys.stdin).get(sys.argv[1])
except Exception:
    v = None
print(v if isinstance(v, str) else "")' "$1"
}

# Calls the API: demo_api METHOD PATH [BODY].  Sets CODE and BODY; returns 1
# when no answer came.
demo_api() {
	local out args=(-sS --max-time 10 -w '\n%{http_code}' -X "$1" "$SX_URL$2" -H "x-api-key: $SX_API_KEY")
	(($# > 2)) && args+=(-H 'Content-Type: application/json' -d "$3")
	CODE=000 BODY=
	out=$(curl "${args[@]}") || return 1
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# The values of var/stack.env that the demo uses.
demo_env() {
	[[ -s $STACK_ENV ]] || die "$STACK_ENV is missing: run ./stack up"
	# shellcheck disable=SC1090
	SX_URL=$(. "$STACK_ENV" && printf '%s' "$SX_URL")
	# shellcheck disable=SC1090
	SX_API_KEY=$(. "$STACK_ENV" && printf '%s' "$SX_API_KEY")
}

demo_example() {
	local tid
	step "example"
	cat <<-'EOF'
		    . var/stack.env
		    curl -sS -X POST "$SX_URL/api/v1/tasks" \
		      -H "x-api-key: $SX_API_KEY" -H 'Content-Type: application/json' \
		      -d '{"url":"'"$SX_URL"'/sites/product/index.html","data_extraction_goal":"What does the product cost?","proxy_location":"RESIDENTIAL"}'
		    curl -sS "$SX_URL/api/v1/tasks/<task_id>" -H "x-api-key: $SX_API_KEY"
	EOF
	demo_env
	demo_api POST /api/v1/tasks "$(demo_body "$SX_URL" product)" ||
		die "the example POST did not get an answer"
	printf '    POST /api/v1/tasks -> %s %s\n' "$CODE" "$BODY"
	if [[ $CODE != 200 ]]; then
		log_tail "$API_LOG" 20
		die "the example POST answered $CODE, expected 200"
	fi
	tid=$(json_string task_id <<<"$BODY")
	[[ -n $tid ]] || die "the example POST answered no task_id"
	demo_api GET "/api/v1/tasks/$tid" || die "the example GET did not get an answer"
	printf '    GET /api/v1/tasks/%s -> %s %s\n' "$tid" "$CODE" "$BODY"
	[[ $CODE == 200 ]] || die "the example GET answered $CODE, expected 200"
}

# True when the agent has a language model to ask: a key in the variable the
# config names, or a base URL that is not a public provider's (a local
# server needs no key).  The values are sextant's own (sextant-admin conf get).
demo_llm_configured() {
	local key_env base
	key_env=$(admin conf get llm_api_key_env) || die "sextant-admin conf get failed"
	base=$(admin conf get llm_base_url) || die "sextant-admin conf get failed"
	if [[ -z ${!key_env:-} && $base == https://api.* ]]; then
		cat <<-EOF
		    No language model is configured, so the agent cannot decide anything yet.
		    Set the key and run ./stack up again, e.g.
		        export $key_env=...            # never written to any file
		    or use another provider or a local OpenAI-compatible server:
		        SX_LLM_PROVIDER=anthropic ANTHROPIC_API_KEY=... ./stack up
		        SX_LLM_BASE_URL=http://127.0.0.1:11434/v1 SX_LLM_MODEL=llama3.1 ./stack up
		EOF
		return 1
	fi
}

demo_task() {
	local tid status="" i
	step "end-to-end task: apply for a job on $URL/sites/job/index.html"
	demo_llm_configured || return 0
	demo_env
	demo_api POST /api/v1/tasks "$(demo_body "$SX_URL" job)" ||
		die "the task POST did not get an answer"
	[[ $CODE == 200 ]] || die "the task POST answered $CODE: $BODY"
	tid=$(json_string task_id <<<"$BODY")
	info "task $tid queued; waiting for the agent (at most 5 minutes)"
	for ((i = 0; i < 300; i++)); do
		demo_api GET "/api/v1/tasks/$tid" || true
		status=$(json_string status <<<"$BODY")
		case $status in
		completed | failed | terminated | canceled | timed_out) break ;;
		esac
		sleep 1
	done
	info "status: ${status:-unknown}"
	printf '    %s\n' "$BODY"
	info "steps: curl -sS \"\$SX_URL/api/v1/tasks/$tid/steps\" -H \"x-api-key: \$SX_API_KEY\""
}

demo_main() {
	case ${1:-} in
	example) demo_example ;;
	task) demo_task ;;
	*) die "usage: stack.d/demo.sh example|task" ;;
	esac
}

run_main "${BASH_SOURCE[0]}" demo_main "$@"
