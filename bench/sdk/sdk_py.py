#!/usr/bin/env python3
"""bench/sdk: one Skyvern Python SDK, unchanged, against a running Sextant.

    python3 bench/sdk/sdk_py.py --sdk DIR --surface run|task

DIR holds a Skyvern checkout (or an export of it) with skyvern/client/ in it:
"run" is today's SDK (the run API under /v1), "task" is the older one that
speaks /api/v1/tasks (Skyvern's tree before the run API, e.g. the parent of
4e7dd87f9).  Nothing from Skyvern is copied here: the SDK is imported from
DIR.  bench/sdk/run.py starts this with the stack's URL and key and the
test doubles' URLs in the environment (SX_URL, SX_API_KEY, SDK_SITE for
the fixture pages, SDK_HOOK for the webhook receiver), and has scripted the
LLM double so that a task on the product fixture completes.

Two accommodations, neither of which changes what the SDK sends or checks:
  * the package is loaded without skyvern/__init__.py (the server's
    dependencies), and with a stand-in distribution record, because the older
    SDK reads its version from installed package metadata;
  * with pydantic 1 (Debian 12) the SDK's recursive workflow models cannot
    resolve their forward references in import order; the failing calls are
    retried once every module is loaded (the same resolution, later).

Prints one JSON line per call: {"sdk", "call", "ok", "detail"}.  A call
passes when the SDK returns without raising (its own pydantic validation
included) and the checks below on the returned model hold, among them that
every enum value is one the SDK's Literal lists (pydantic accepts any string
there; a typed client would not).
"""
import argparse
import json
import os
import sys
import tempfile
import time
import traceback
import types
import typing

FINAL = ("completed", "failed", "terminated", "canceled", "timed_out")


def load_sdk(root):
    """Imports skyvern.client from root/skyvern/client (see the module doc)."""
    meta = tempfile.mkdtemp(prefix="sx-sdk-meta-")
    os.makedirs(os.path.join(meta, "skyvern-0.0.0.dist-info"))
    with open(os.path.join(meta, "skyvern-0.0.0.dist-info", "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\nName: skyvern\nVersion: 0.0.0\n")
    sys.path.insert(0, meta)
    for name, path in (("skyvern", "skyvern"), ("skyvern.client", "skyvern/client")):
        m = types.ModuleType(name)
        m.__path__ = [os.path.join(root, path)]
        sys.modules[name] = m
    import skyvern.client.core.pydantic_utilities as pu
    del sys.modules["skyvern.client"]
    resolve = pu.update_forward_refs
    later = []

    def deferred(model, **localns):
        try:
            resolve(model, **localns)
        except NameError:
            later.append((model, localns))

    pu.update_forward_refs = deferred
    import skyvern.client as client
    import skyvern.client.types  # noqa: F401  (every model, so that every name exists)
    for _ in range(4):
        pending, later[:] = list(later), []
        for model, localns in pending:
            deferred(model, **localns)
    if later:
        raise RuntimeError("unresolved SDK models: %s" % [m.__name__ for m, _ in later])
    return client


def literal_values(alias):
    """The strings of a Fern enum alias, Union[Literal[...], Any]."""
    out = set()
    for arg in typing.get_args(alias):
        if typing.get_origin(arg) is typing.Literal:
            out.update(typing.get_args(arg))
    return out


class Runner:
    def __init__(self, sdk):
        self.sdk = sdk
        self.results = []

    def call(self, name, fn):
        """Runs fn; records pass/fail; returns its value (None on failure)."""
        try:
            value = fn()
            ok, detail = True, ""
        except Exception as e:  # every failure is a row of the table
            value, ok = None, False
            detail = "%s: %s" % (type(e).__name__, str(e).replace("\n", " ")[:400])
            if os.environ.get("SDK_TRACE"):
                traceback.print_exc()
        print(json.dumps({"sdk": self.sdk, "call": name, "ok": ok, "detail": detail}), flush=True)
        return value


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def in_enum(value, alias, what):
    check(value in literal_values(alias), "%s %r is not in the SDK's enum" % (what, value))


def expect_error(fn, cls, status):
    """fn must raise the SDK's error class cls (or ApiError) with status."""
    try:
        fn()
    except Exception as e:
        code = getattr(e, "status_code", None)
        check(code == status and (cls is None or isinstance(e, cls)),
              "expected %s %s, got %s %s: %s" % (getattr(cls, "__name__", "ApiError"), status,
                                                 type(e).__name__, code, getattr(e, "body", e)))
        return getattr(e, "body", None)
    raise AssertionError("expected HTTP %s, the call returned" % status)


def validation_error(fn, errors, field):
    """fn must raise the SDK's UnprocessableEntityError, its body parsed as
    HTTPValidationError (FastAPI's shape), naming field in a loc."""
    body = expect_error(fn, errors.UnprocessableEntityError, 422)
    # The older SDK parses the body into its model; today's hands it over as JSON.
    detail = body.get("detail") if isinstance(body, dict) else getattr(body, "detail", None)
    locs = [d.get("loc") if isinstance(d, dict) else d.loc for d in detail or []]
    check(any(field in [str(x) for x in loc] for loc in locs), "no loc names %s: %r" % (field, body))
    return body


def env(name):
    return os.environ[name]


def wait_run(get, run_id, timeout_s=180):
    """Polls get(run_id) until a final status (the SDK's create-then-poll, as
    Skyvern's own wait_for_completion does with get_run)."""
    deadline = time.time() + timeout_s
    while True:
        run = get(run_id)
        if run.status in FINAL or time.time() > deadline:
            return run
        time.sleep(0.5)


def run_surface(r, sx):
    """Today's SDK: the run API under /v1."""
    from skyvern.client import types as T
    import skyvern.client.errors as errors
    c = sx.Skyvern(base_url=env("SX_URL"), api_key=env("SX_API_KEY"))
    site, hook = env("SDK_SITE"), env("SDK_HOOK")
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "price": {"type": "number"}}}

    def run_task():
        run = c.run_task(prompt="Read the product's name and price", url=site + "product/index.html",
                         data_extraction_schema=schema, max_steps=5, webhook_url=hook + "/run",
                         title="sdk bench", engine="skyvern-1.0")
        check(run.run_id.startswith("tsk_") and run.run_type == "task_v1", "run_id/run_type: %r" % run)
        in_enum(run.status, T.RunStatus, "status")
        check(run.run_request is not None and run.run_request.prompt.startswith("Read"), "run_request.prompt")
        return run

    run = r.call("run_task", run_task)
    rid = run.run_id if run else "tsk_missing"

    def poll():
        done = wait_run(c.get_run, rid)
        check(done.status == "completed", "status %s (%s)" % (done.status, done.failure_reason))
        check(done.run_type == "task_v1", "run_type %r" % done.run_type)
        check(isinstance(done.output, dict) and done.output.get("price") == 249, "output %r" % done.output)
        check(done.app_url and rid in done.app_url, "app_url %r" % done.app_url)
        check(done.step_count and done.step_count >= 1, "step_count")
        check(isinstance(done.screenshot_urls, list) and done.recording_archived is False,
              "screenshot_urls/recording_archived")
        return done

    r.call("run_task + get_run until final (create-then-poll)", poll)
    r.call("get_run (unknown id): NotFoundError 404",
           lambda: expect_error(lambda: c.get_run("tsk_000000000000000000000000"), errors.NotFoundError, 404))

    def artifacts():
        items = c.get_run_artifacts(rid)
        check(items, "no artifacts")
        for a in items:
            in_enum(a.artifact_type, T.ArtifactType, "artifact_type")
            check(a.run_id == rid and a.task_id == rid, "run_id/task_id of %s" % a.artifact_id)
        return items

    r.call("get_run_artifacts", artifacts)

    def artifacts_filtered():
        items = c.get_run_artifacts(rid, artifact_type=["screenshot_final", "llm_response"])
        kinds = {a.artifact_type for a in items}
        check(kinds == {"screenshot_final", "llm_response"}, "types %s" % sorted(kinds))
        one = c.get_run_artifacts(rid, artifact_type="screenshot_final")
        check(one and all(a.artifact_type == "screenshot_final" for a in one), "single filter")
        return items

    r.call("get_run_artifacts (artifact_type filter, repeated and single)", artifacts_filtered)

    run_surface_more(r, c, rid, T, errors)
    return rid


def run_surface_more(r, c, rid, T, errors):
    """The run API's webhook, cancel, refusal and TOTP calls on the run rid."""
    site, hook = env("SDK_SITE"), env("SDK_HOOK")

    def retry(body, target):
        rep = c.retry_run_webhook(rid, request=body) if body else c.retry_run_webhook(rid)
        check(rep.run_id == rid and rep.run_type == "task_v1", "run_id/run_type")
        check(rep.target_webhook_url == target and rep.status_code == 200, "target %r status %r (%r)"
              % (rep.target_webhook_url, rep.status_code, rep.error))
        check(json.loads(rep.payload).get("task_id") == rid, "payload task_id")
        check("x-skyvern-signature" in rep.headers, "headers %r" % rep.headers)
        return rep

    rep = r.call("retry_run_webhook", lambda: retry(None, hook + "/run"))

    def merged():
        sent = json.loads(rep.payload) if rep else {}
        check(sent.get("run_id") == rid and sent.get("run_type") == "task_v1",
              "no run_id/run_type in the webhook body (the merged body)")
        return sent

    r.call("webhook body read as a run (run_id, run_type)", merged)
    r.call("retry_run_webhook (webhook_url in the body)",
           lambda: retry(T.RetryRunWebhookRequest(webhook_url=hook + "/other"), hook + "/other"))

    def cancel():
        other = c.run_task(prompt="Wait forever", url=site + "never/index.html", max_steps=50)
        check(c.cancel_run(other.run_id) is None, "cancel_run returned a value")
        check(c.get_run(other.run_id).status == "canceled", "not canceled")
        return other

    r.call("cancel_run (then get_run: canceled)", cancel)
    r.call("cancel_run (final run): 400 (the SDK maps only 422 here)",
           lambda: expect_error(lambda: c.cancel_run(rid), None, 400))
    r.call("run_task (refused url): BadRequestError 400",
           lambda: expect_error(lambda: c.run_task(prompt="x", url="ftp://example.com/"),
                                errors.BadRequestError, 400))
    r.call("run_task (max_steps of the wrong type): UnprocessableEntityError 422",
           lambda: validation_error(lambda: c.run_task(prompt="x", url=site + "product/index.html",
                                                       max_steps="many"), errors, "max_steps"))

    def totp():
        code = c.send_totp_code(totp_identifier="sdk@example.com", content="Your code is 482913", source="email")
        check(code.code == "482913" and code.totp_code_id, "code %r" % code)
        return code

    r.call("send_totp_code (POST /v1/credentials/totp)", totp)


def task_surface(r, sx):
    """The older SDK: /api/v1/tasks and its neighbours (client.agent.*)."""
    from skyvern.client import types as T
    a = sx.Skyvern(base_url=env("SX_URL")).agent
    key, site, hook = env("SX_API_KEY"), env("SDK_SITE"), env("SDK_HOOK")
    body = dict(url=site + "product/index.html", navigation_goal="Read the product's name and price",
                data_extraction_goal="Extract the product name and price",
                navigation_payload={"note": "sdk bench"}, webhook_callback_url=hook + "/task",
                proxy_location="RESIDENTIAL", title="sdk bench")

    def create():
        made = a.create_task(api_key=key, max_steps_override=5, **body)
        check(made.task_id.startswith("tsk_"), "task_id %r" % made.task_id)
        return made

    made = r.call("create_task", create)
    tid = made.task_id if made else "tsk_missing"

    def get():
        t = a.get_task(tid, api_key=key)
        check(t.task_id == tid and t.request.url == body["url"], "task_id/request.url")
        in_enum(t.status, T.TaskStatus, "status")
        return t

    r.call("get_task", get)

    def helper():
        t = a.run_task(api_key=key, max_steps_override=5, timeout_seconds=180, **body)
        check(t.status == "completed", "status %s (%s)" % (t.status, t.failure_reason))
        check(isinstance(t.extracted_information, dict), "extracted_information %r" % t.extracted_information)
        return t

    r.call("run_task (create_task then get_task until final)", helper)
    first = wait_run(lambda i: a.get_task(i, api_key=key), tid)
    r.call("get_task (unknown id): 404", lambda: expect_error(
        lambda: a.get_task("tsk_000000000000000000000000", api_key=key), None, 404))

    def listing():
        items = a.get_tasks(api_key=key, page=1, page_size=10, task_status=[first.status, "queued"])
        check(any(t.task_id == tid for t in items), "the task is not listed")
        for t in items:
            in_enum(t.status, T.TaskStatus, "status")
            check(t.url, "url missing at the top level")
        return items

    r.call("get_tasks (task_status repeated)", listing)
    task_surface_more(r, a, key, tid, first, T)
    return tid


def task_surface_more(r, a, key, tid, first, T):
    """The older SDK's reads of a finished task, its webhook, cancel and TOTP calls."""
    site = env("SDK_SITE")
    steps = r.call("get_task_steps", lambda: steps_of(a, key, tid, T))

    r.call("get_task_actions", lambda: all_in_enum(
        a.get_task_actions(tid, api_key=key), "action_type", T.ActionType))
    r.call("get_entity_artifacts (GET /api/v1/task/{id}/artifacts)", lambda: all_in_enum(
        a.get_entity_artifacts("task", tid, api_key=key), "artifact_type", T.ArtifactType))

    def step_artifacts():
        check(steps, "no steps to ask about")
        items = a.get_task_step_artifacts(tid, steps[0].step_id, api_key=key)
        check(items and all(i.step_id == steps[0].step_id for i in items), "step artifacts")
        return items

    r.call("get_task_step_artifacts", step_artifacts)

    def retry():
        t = a.retry_webhook(tid, api_key=key)
        check(t.task_id == tid and t.status == first.status, "task object")
        return t

    r.call("retry_webhook", retry)

    def cancel():
        other = a.create_task(api_key=key, url=site + "never/index.html", navigation_goal="Wait forever")
        a.cancel_task(other.task_id, api_key=key)
        check(a.get_task(other.task_id, api_key=key).status == "canceled", "not canceled")
        return other

    r.call("cancel_task (then get_task: canceled)", cancel)
    r.call("cancel_task (final task): 409", lambda: expect_error(
        lambda: a.cancel_task(tid, api_key=key), None, 409))
    import skyvern.client.errors as errors
    r.call("create_task (max_steps_override of the wrong type): UnprocessableEntityError 422",
           lambda: validation_error(lambda: a.create_task(api_key=key, url=site + "product/index.html",
                                                          navigation_goal="x", max_steps_override="many"),
                                    errors, "x-max-steps-override"))

    def totp():
        code = a.save_totp_code(api_key=key, totp_identifier="sdk@example.com",
                                content="Your code is 482913", source="email")
        check(code.code == "482913", "code %r" % code)
        return code

    r.call("save_totp_code (POST /api/v1/totp)", totp)


def steps_of(a, key, tid, T):
    return all_in_enum(a.get_task_steps(tid, api_key=key), "status", T.StepStatus)


def all_in_enum(items, attr, alias):
    """items is not empty, and each one's attr is in the SDK's enum alias."""
    check(items, "an empty list")
    for it in items:
        in_enum(getattr(it, attr), alias, attr)
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sdk", required=True, help="a Skyvern checkout holding skyvern/client/")
    ap.add_argument("--surface", choices=("run", "task"), required=True)
    args = ap.parse_args()
    r = Runner("python " + ("run API" if args.surface == "run" else "older (v1 tasks)"))
    sx = r.call("import the SDK (pydantic %s)" % __import__("pydantic").VERSION,
                lambda: load_sdk(os.path.abspath(args.sdk)))
    if sx is None:
        return 1
    (run_surface if args.surface == "run" else task_surface)(r, sx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
