/*
 * Sextant task viewer: a static single-page client of the Task API.
 *
 * Rules this file keeps:
 *  - every value from the API reaches the page through text nodes or
 *    attributes set with the DOM API (h() below); nothing is parsed as HTML;
 *  - the API key lives in sessionStorage only (gone when the tab closes),
 *    never in localStorage or a cookie, and is sent as x-api-key;
 *  - every timer belongs to the current view and is cleared on navigation,
 *    so a page left behind never keeps polling.
 */
(function () {
	"use strict";

	var KEY_NAME = "sextant.apiKey";
	var STATUSES = ["created", "queued", "running", "completed", "terminated",
		"failed", "canceled", "timed_out"];
	var LIVE = { created: true, queued: true, running: true };
	var TASK_POLL_MS = 2000;
	var LIST_POLL_MS = 3000;

	/* State of the current view; replaced on every route change. */
	var view = { gen: 0, timers: [] };
	/* Reveal choices ("payload:" or "run:" + task id), kept across polls of one page. */
	var revealed = {};
	/* How the product shows a masked secret (agent/mask.h, MASK_SHOWN). */
	var MASK_SHOWN = "********";
	/*
	 * The product's rule for keys that name a secret (agent/mask.c,
	 * mask_key_is_secret; README "Secrets"): the key split into words,
	 * lower-cased and joined contains a term, or one of its words is a
	 * short term.  Keep these lists equal to mask.c's.
	 */
	var SECRET_TERMS = ["pass", "pwd", "secret", "token", "otp", "pin", "ssn", "cvv", "cvc", "ccv",
		"card", "iban", "apikey", "accesskey", "privatekey", "signingkey", "credential", "code", "mfa",
		"2fa", "authorization", "bearer", "cookie", "session", "accountnumber", "routingnumber",
		"socialsecurity", "taxid", "nationalid", "securityanswer", "mnemonic", "seedphrase"];
	var SECRET_WORDS = ["pw", "key", "csc", "sin"];
	/* Whether the artifacts route exists (null: not asked yet). */
	var artifactsRoute = null;

	// ------------------------------------------------------------ helpers

	/*
	 * Builds an element.  attrs: properties/attributes ("on*" functions
	 * become listeners, "class" sets className); children: strings (as text
	 * nodes), nodes, arrays, null/undefined/false (skipped).
	 */
	function h(tag, attrs) {
		var el = document.createElement(tag);
		var k, i;

		for (k in attrs || {}) {
			if (!Object.prototype.hasOwnProperty.call(attrs, k))
				continue;
			var v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (k.slice(0, 2) === "on" && typeof v === "function")
				el.addEventListener(k.slice(2), v);
			else if (k === "class")
				el.className = v;
			else if (k === "text")
				el.textContent = String(v);
			else if (k in el && typeof v !== "string")
				el[k] = v;
			else
				el.setAttribute(k, v === true ? "" : String(v));
		}
		for (i = 2; i < arguments.length; i++)
			append(el, arguments[i]);
		return el;
	}

	function append(el, c) {
		var i;

		if (c === null || c === undefined || c === false)
			return;
		if (Array.isArray(c)) {
			for (i = 0; i < c.length; i++)
				append(el, c[i]);
		} else if (c instanceof Node) {
			el.appendChild(c);
		} else {
			el.appendChild(document.createTextNode(String(c)));
		}
	}

	function $(id) { return document.getElementById(id); }

	function clear(el) {
		while (el.firstChild)
			el.removeChild(el.firstChild);
	}

	function pretty(v) {
		try {
			return JSON.stringify(v, null, 2);
		} catch (e) {
			return String(v);
		}
	}

	/* Only http(s) URLs become src/href, so data from the API cannot run script. */
	function safeUrl(u) {
		if (typeof u !== "string" || !u)
			return null;
		try {
			var p = new URL(u, location.href);
			return p.protocol === "http:" || p.protocol === "https:" ? p.href : null;
		} catch (e) {
			return null;
		}
	}

	function fmtCost(c) {
		var n = Number(c || 0);
		return "$" + n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 4);
	}

	function fmtTime(s) {
		return s ? String(s).replace("T", " ").replace(/\.\d+$/, "") + " UTC" : "—";
	}

	/* Whether key names a secret by the product's rule (SECRET_TERMS above). */
	function keyIsSecret(key) {
		var words = [], cur = "", joined, i, c;

		for (i = 0; i < key.length; i++) {
			c = key.charAt(i);
			if (!/[A-Za-z0-9]/.test(c) || (/[A-Z]/.test(c) && i > 0 && /[a-z]/.test(key.charAt(i - 1)))) {
				if (cur)
					words.push(cur);
				cur = "";
			}
			if (/[A-Za-z0-9]/.test(c))
				cur += c.toLowerCase();
		}
		if (cur)
			words.push(cur);
		joined = words.join("");
		return SECRET_TERMS.some(function (t) { return joined.indexOf(t) >= 0; }) ||
			SECRET_WORDS.some(function (w) { return words.indexOf(w) >= 0; });
	}

	/*
	 * A run request as text with every value under a key that names a secret
	 * shown as MASK_SHOWN.  The top level's keys are the run API's own field
	 * names (totp_url, error_code_mapping…), not the client's data, so the
	 * rule applies below it: header names, mapping keys.
	 */
	function maskSecrets(v) {
		function mask(x, top) {
			var o;

			if (Array.isArray(x))
				return x.map(function (y) { return mask(y, false); });
			if (!x || typeof x !== "object")
				return x;
			o = {};
			Object.keys(x).forEach(function (k) {
				o[k] = !top && keyIsSecret(k) && x[k] !== null ? MASK_SHOWN : mask(x[k], false);
			});
			return o;
		}
		return pretty(mask(v, true));
	}

	function badge(status) {
		var s = STATUSES.indexOf(status) >= 0 ? status : "unknown";
		return h("span", { class: "badge badge-" + s, "data-status": s }, String(status || "unknown"));
	}

	function later(fn, ms) {
		var gen = view.gen;
		var t = setTimeout(function () {
			if (gen === view.gen)
				fn();
		}, ms);
		view.timers.push(t);
	}

	// ------------------------------------------------------------ key

	function getKey() {
		try {
			return sessionStorage.getItem(KEY_NAME) || "";
		} catch (e) {
			return "";
		}
	}

	function showKeyState() {
		var k = getKey();
		$("key-state").textContent = k ? "key set (this tab only)" : "no key";
		$("key-forget").disabled = !k;
		document.body.classList.toggle("has-key", !!k);
	}

	function initKeyForm() {
		$("key-form").addEventListener("submit", function (ev) {
			var v = $("api-key").value.trim();

			ev.preventDefault();
			if (!v) {
				showError("Paste an API key first.");
				return;
			}
			sessionStorage.setItem(KEY_NAME, v);
			$("api-key").value = "";
			showKeyState();
			hideError();
			route();
		});
		$("key-forget").addEventListener("click", function () {
			sessionStorage.removeItem(KEY_NAME);
			$("api-key").value = "";
			showKeyState();
			route();
		});
		showKeyState();
	}

	// ------------------------------------------------------------ errors

	/* The API's {"detail": …}: a string, or FastAPI's list of {loc, msg}. */
	function detailText(body, status) {
		var d = body && typeof body === "object" ? body.detail : null;

		if (typeof d === "string")
			return d;
		if (Array.isArray(d)) {
			return d.map(function (e) {
				var loc = Array.isArray(e && e.loc) ? e.loc.join(".") : "";
				return (loc ? loc + ": " : "") + (e && e.msg ? e.msg : pretty(e));
			}).join("; ");
		}
		return "HTTP " + status;
	}

	function showError(msg) {
		var e = $("error");
		e.textContent = msg;
		e.hidden = false;
	}

	function hideError() {
		var e = $("error");
		e.textContent = "";
		e.hidden = true;
	}

	// ------------------------------------------------------------ API

	/*
	 * Calls the API; resolves to the parsed JSON body, rejects with an Error
	 * whose message is the API's detail and whose .status is the HTTP status.
	 */
	function api(method, path, body, headers) {
		var opts = { method: method, headers: { "x-api-key": getKey() }, cache: "no-store",
			credentials: "omit" };
		var k;

		for (k in headers || {})
			opts.headers[k] = headers[k];
		if (body !== undefined) {
			opts.headers["Content-Type"] = "application/json";
			opts.body = JSON.stringify(body);
		}
		return fetch(path, opts).then(function (res) {
			return res.text().then(function (text) {
				var json = null;
				try {
					json = text ? JSON.parse(text) : null;
				} catch (e) {
					json = null;
				}
				if (!res.ok) {
					var err = new Error(detailText(json, res.status));
					err.status = res.status;
					throw err;
				}
				// A list page cut by the server's byte budget says so (README:
				// "List tasks"); the rest continues after its last task.
				if (Array.isArray(json))
					json.truncated = res.headers.get("X-Sextant-Truncated") === "true";
				return json;
			});
		}, function (e) {
			var err = new Error("Cannot reach the API: " + e.message);
			err.status = 0;
			throw err;
		});
	}

	function apiError(e) {
		if (e.status === 403)
			showError(e.message + " — check the API key.");
		else
			showError(e.message);
	}

	// ------------------------------------------------------------ routing

	function route() {
		var hash = location.hash || "#/tasks";
		var m;

		view.timers.forEach(clearTimeout);
		view = { gen: view.gen + 1, timers: [] };
		hideError();
		clear($("view"));
		document.querySelectorAll("nav a").forEach(function (a) {
			a.removeAttribute("aria-current");
		});
		if (!getKey()) {
			renderNoKey();
			return;
		}
		if ((m = /^#\/tasks\/([A-Za-z0-9_\-]+)$/.exec(hash))) {
			renderTask(m[1]);
		} else if (hash === "#/new") {
			$("nav-new").setAttribute("aria-current", "page");
			renderCreate();
		} else {
			$("nav-tasks").setAttribute("aria-current", "page");
			renderList(parseQuery(hash));
		}
	}

	function parseQuery(hash) {
		var q = { page: 1, page_size: 10, status: "", after: "" };
		var i = hash.indexOf("?");
		if (i >= 0) {
			var p = new URLSearchParams(hash.slice(i + 1));
			q.page = Math.max(1, parseInt(p.get("page"), 10) || 1);
			q.page_size = Math.min(100, Math.max(1, parseInt(p.get("page_size"), 10) || 10));
			q.status = STATUSES.indexOf(p.get("status")) >= 0 ? p.get("status") : "";
			q.after = /^tsk_[0-9a-z]+$/.test(p.get("after") || "") ? p.get("after") : "";
		}
		return q;
	}

	function listHash(q) {
		var p = new URLSearchParams();
		p.set("page", q.page);
		p.set("page_size", q.page_size);
		if (q.status)
			p.set("status", q.status);
		if (q.after)
			p.set("after", q.after);
		return "#/tasks?" + p.toString();
	}

	/*
	 * The page after this one, or null.  A page the server cut short
	 * (tasks.truncated) continues after its last task; a page that cursor
	 * began keeps going by cursor; otherwise by page number.
	 */
	function olderHash(q, tasks) {
		var next = { page: q.page + 1, page_size: q.page_size, status: q.status };
		if (!tasks.length || (!tasks.truncated && tasks.length < q.page_size))
			return null;
		if (tasks.truncated || q.after)
			next.after = tasks[tasks.length - 1].task_id;
		return listHash(next);
	}

	/*
	 * The page before this one.  A cursor page cannot be counted back from:
	 * it leads to the newest page instead.
	 */
	function newerHash(q) {
		if (q.after)
			return listHash({ page: 1, page_size: q.page_size, status: q.status });
		return listHash({ page: q.page - 1, page_size: q.page_size, status: q.status });
	}

	function renderNoKey() {
		append($("view"), h("section", { class: "card", id: "need-key" },
			h("h1", null, "Task viewer"),
			h("p", null, "Paste your organization's API key above to see its tasks. ",
				"The key stays in this browser tab (sessionStorage) and is forgotten when the tab closes.")));
		$("api-key").focus();
	}

	// ------------------------------------------------------------ list

	function renderList(q) {
		var root = $("view");
		var sel = h("select", { id: "filter-status", name: "status" },
			h("option", { value: "" }, "all"),
			STATUSES.map(function (s) {
				return h("option", { value: s, selected: s === q.status }, s);
			}));
		var size = h("select", { id: "page-size", name: "page_size" },
			[10, 25, 50, 100].map(function (n) {
				return h("option", { value: String(n), selected: n === q.page_size }, String(n));
			}));
		var tbody = h("tbody", { id: "task-rows" });
		var pager = h("div", { class: "pager" });
		var note = h("p", { class: "muted", id: "list-note", "aria-live": "polite" }, "Loading…");

		sel.addEventListener("change", function () {
			location.hash = listHash({ page: 1, page_size: q.page_size, status: sel.value });
		});
		size.addEventListener("change", function () {
			location.hash = listHash({ page: 1, page_size: parseInt(size.value, 10), status: q.status });
		});
		append(root, h("section", { class: "card" },
			h("div", { class: "list-head" },
				h("h1", null, "Tasks"),
				h("div", { class: "filters" },
					h("label", { for: "filter-status" }, "Status"), sel,
					h("label", { for: "page-size" }, "Per page"), size,
					h("button", { type: "button", id: "refresh", onclick: function () { load(); } }, "Refresh"))),
			h("table", { class: "tasks", id: "task-table" },
				h("caption", { class: "sr-only" }, "Tasks, newest first"),
				h("thead", null, h("tr", null,
					h("th", { scope: "col" }, "Task"),
					h("th", { scope: "col" }, "Status"),
					h("th", { scope: "col" }, "URL"),
					h("th", { scope: "col" }, "Goal"),
					h("th", { scope: "col" }, "Steps"),
					h("th", { scope: "col" }, "Created"))),
				tbody),
			note, pager));

		function load() {
			// With a cursor the page starts after that task: page counts from there.
			var path = "/api/v1/tasks?page=" + (q.after ? 1 : q.page) + "&page_size=" + q.page_size +
				"&order=desc";
			if (q.after)
				path += "&after=" + encodeURIComponent(q.after);
			if (q.status)
				path += "&task_status=" + encodeURIComponent(q.status);
			var gen = view.gen;
			api("GET", path).then(function (tasks) {
				if (gen !== view.gen)
					return;
				hideError();
				fillRows(Array.isArray(tasks) ? tasks : []);
			}, function (e) {
				if (gen !== view.gen)
					return;
				note.textContent = "";
				apiError(e);
			});
		}

		function fillRows(tasks) {
			var live = false;

			clear(tbody);
			tasks.forEach(function (t) {
				var r = t.request || {};
				live = live || !!LIVE[t.status];
				append(tbody, h("tr", { "data-task-id": t.task_id },
					h("td", null, h("a", { href: "#/tasks/" + encodeURIComponent(t.task_id), class: "mono" }, t.task_id),
						t.created_via === "run_api" ? h("span", { class: "tag", "data-run": "true",
							title: "Created through the run API (POST /v1/run/tasks)" }, "run") : null),
					h("td", null, badge(t.status)),
					h("td", { class: "url" }, r.url || ""),
					h("td", null, r.navigation_goal || r.data_extraction_goal || ""),
					h("td", { class: "num" }, String(t.step_count || 0)),
					h("td", { class: "nowrap" }, fmtTime(t.created_at))));
			});
			note.textContent = tasks.length ? (live ? "Refreshing while tasks run…" : "") :
				"No tasks" + (q.status ? " with status " + q.status : "") + " on this page.";
			clear(pager);
			append(pager, [
				h("a", { class: "button" + (q.page <= 1 ? " disabled" : ""), id: "page-prev",
					href: q.page > 1 ? newerHash(q) : null,
					"aria-disabled": q.page <= 1 ? "true" : null }, "← Newer"),
				h("span", { class: "muted" }, "Page " + q.page),
				h("a", { class: "button" + (olderHash(q, tasks) ? "" : " disabled"), id: "page-next",
					href: olderHash(q, tasks),
					"aria-disabled": olderHash(q, tasks) ? null : "true" }, "Older →")]);
			if (live)
				later(load, LIST_POLL_MS);
		}

		load();
	}

	// ------------------------------------------------------------ task

	function renderTask(id) {
		var root = $("view");
		var lastShown = "";

		append(root, h("p", { class: "muted", id: "task-loading" }, "Loading " + id + "…"));

		function load() {
			var gen = view.gen;
			var base = "/api/v1/tasks/" + encodeURIComponent(id);

			Promise.all([
				api("GET", base),
				api("GET", base + "/steps"),
				loadArtifacts(base),
				loadRun(id)
			]).then(function (r) {
				if (gen !== view.gen)
					return;
				hideError();
				var task = r[0], steps = Array.isArray(r[1]) ? r[1] : [], arts = r[2], run = r[3];
				var key = JSON.stringify([task, steps, arts, run]);
				/* Rebuild only on change, so a playing video or a scrolled page is left alone. */
				if (key !== lastShown) {
					lastShown = key;
					clear(root);
					append(root, taskPage(task, steps, arts, run, load));
				}
				if (LIVE[task.status])
					later(load, TASK_POLL_MS);
			}, function (e) {
				if (gen !== view.gen)
					return;
				apiError(e);
				var l = $("task-loading");
				if (l)
					l.textContent = "";
				/* A transient failure while the task runs: keep polling. */
				if (e.status !== 404 && e.status !== 403 && lastShown)
					later(load, TASK_POLL_MS);
			});
		}
		load();
	}

	/*
	 * The artifacts listing when the API has it (a later route): resolves to
	 * an array of {type, step, created_at, url}, or null when the route is
	 * missing or fails, which never fails the page.
	 */
	function loadArtifacts(base) {
		if (artifactsRoute === false)
			return Promise.resolve(null);
		return api("GET", base + "/artifacts").then(function (body) {
			var list = Array.isArray(body) ? body : body && Array.isArray(body.artifacts) ? body.artifacts : null;
			artifactsRoute = true;
			return list;
		}, function (e) {
			if (e.status === 404 && /^Not Found$/.test(e.message))
				artifactsRoute = false;
			return null;
		});
	}

	/*
	 * The task read as a run (GET /v1/runs/{id}): the members the run page
	 * shows, or null when the run API does not answer, which never fails
	 * the page.  Only these members, so signed URLs that change at every
	 * read do not rebuild a finished page.
	 */
	function loadRun(id) {
		return api("GET", "/v1/runs/" + encodeURIComponent(id)).then(function (run) {
			return run && typeof run === "object" ? { run_id: run.run_id, run_type: run.run_type,
				app_url: run.app_url, run_request: run.run_request } : null;
		}, function () {
			return null;
		});
	}

	function field(label, value, cls) {
		return [h("dt", null, label), h("dd", { class: cls || null }, value === null || value === undefined || value === "" ? "—" : value)];
	}

	/*
	 * What replay did for a task (its `replay`): hit, healed at step N,
	 * miss or off, with the trace and the model tokens it saved.
	 */
	function replayText(rp) {
		var o = String(rp.outcome || "");
		var text = o === "hit" ? "hit — every step replayed, no model decision" :
			o === "healed" ? "healed at step " + rp.healed_at_step + " — the model took over, the trace was replaced" :
			o === "miss" ? "miss — no trace yet; this run's trace was kept" :
			o === "off" ? "off — the model decided every step" : o;
		if (rp.trace_id)
			text += " · trace " + rp.trace_id + " v" + rp.trace_version;
		if (rp.model_tokens_saved)
			text += " · " + rp.model_tokens_saved + " model tokens saved";
		return text;
	}

	function taskPage(t, steps, arts, run, reload) {
		var r = t.request || {};
		var tokIn = 0, tokOut = 0, cost = 0;

		steps.forEach(function (s) {
			tokIn += Number(s.input_token_count || 0);
			tokOut += Number(s.output_token_count || 0);
			cost += Number(s.step_cost || 0);
		});

		var head = h("section", { class: "card task-head" },
			h("div", { class: "title-row" },
				h("h1", null, "Task ", h("span", { class: "mono", id: "task-id" }, t.task_id)),
				h("span", { id: "task-status" }, badge(t.status)),
				LIVE[t.status] ? h("span", { class: "live", "aria-live": "polite" }, "live — updating every 2 s") : null,
				LIVE[t.status] ? h("button", { type: "button", id: "cancel-task", class: "danger",
					onclick: function (ev) { cancelTask(t.task_id, ev.target, reload); } }, "Cancel task") : null),
			h("dl", { class: "grid" },
				field("Created", fmtTime(t.created_at)),
				field("Started", fmtTime(t.started_at)),
				field("Finished", fmtTime(t.finished_at)),
				field("Steps", String(t.step_count || 0) + " of max " + String(t.max_steps_per_run || "—")),
				field("Tokens (in / out)", tokIn + " / " + tokOut, "mono"),
				field("Cost", fmtCost(cost), "mono"),
				t.replay ? field("Replay", h("span", { id: "replay", "data-outcome": String(t.replay.outcome || "") },
					replayText(t.replay))) : null),
			t.failure_reason ? h("p", { class: "failure", id: "failure-reason" }, h("strong", null, "Failure: "), t.failure_reason) : null,
			t.webhook_failure_reason ? h("p", { class: "failure" }, h("strong", null, "Webhook: "), t.webhook_failure_reason) : null,
			Array.isArray(t.errors) && t.errors.length ? h("ul", { class: "errors" }, t.errors.map(function (e) {
				return h("li", null, h("code", null, e.error_code || ""), " ", e.reasoning || "");
			})) : null);

		return [head, runCard(t, run), requestCard(t, r), resultCard(t), mediaCard(t, arts),
			stepsCard(steps, tokIn, tokOut, cost)];
	}

	/*
	 * A <pre> (id preId) that shows masked(value) until its button (id
	 * toggleId) reveals pretty(value); the choice is kept in revealed[key]
	 * across polls.  Returns [button, pre].
	 */
	function maskedJson(preId, toggleId, key, what, value, masked) {
		var shown = !!revealed[key];
		var pre = h("pre", { id: preId, class: "json" + (shown ? "" : " masked") },
			shown ? pretty(value) : masked(value));
		var toggle = h("button", { type: "button", id: toggleId, "aria-controls": preId,
			"aria-pressed": shown ? "true" : "false",
			onclick: function () {
				revealed[key] = !revealed[key];
				pre.textContent = revealed[key] ? pretty(value) : masked(value);
				pre.classList.toggle("masked", !revealed[key]);
				toggle.textContent = (revealed[key] ? "Hide " : "Reveal ") + what;
				toggle.setAttribute("aria-pressed", revealed[key] ? "true" : "false");
			} }, (shown ? "Hide " : "Reveal ") + what);
		return [toggle, pre];
	}

	/*
	 * How the task came and how it reads as a run: the surface that created
	 * it, run_id, run_type, app_url and the stored run_request, its secrets
	 * masked until revealed.
	 */
	function runCard(t, run) {
		var viaRun = t.created_via === "run_api";
		var app = run ? safeUrl(run.app_url) : null;
		var rr = run && run.run_request ? maskedJson("run-request", "run-request-toggle", "run:" + t.task_id,
			"run request", run.run_request, maskSecrets) : null;

		return h("section", { class: "card", id: "run" },
			h("h2", null, "Run"),
			h("dl", { class: "grid" },
				field("Created through", h("span", { id: "created-via", "data-via": viaRun ? "run_api" : "task_api" },
					viaRun ? "the run API (POST /v1/run/tasks)" : "the task API (POST /api/v1/tasks)")),
				field("Run id", run ? h("span", { id: "run-id" }, run.run_id) : null, "mono"),
				field("Run type", run ? h("span", { id: "run-type" }, run.run_type) : null),
				field("App URL", app ? h("a", { id: "app-url", href: app }, run.app_url) : null, "url")),
			rr ? [h("div", { class: "sub-head" }, h("h3", null, "Run request"), rr[0]), rr[1]] :
				h("p", { class: "muted" }, "The run API did not answer."));
	}

	function requestCard(t, r) {
		var hasPayload = r.navigation_payload !== null && r.navigation_payload !== undefined;
		var payload = hasPayload ? maskedJson("payload", "payload-toggle", "payload:" + t.task_id, "payload",
			r.navigation_payload, maskJson) : [null, h("pre", { id: "payload", class: "json" }, "—")];
		var url = safeUrl(r.url);

		return h("section", { class: "card", id: "request" },
			h("h2", null, "Request"),
			h("dl", { class: "grid" },
				field("URL", url ? h("a", { href: url, rel: "noopener noreferrer", target: "_blank" }, r.url) : r.url, "url"),
				field("Navigation goal", r.navigation_goal),
				field("Data extraction goal", r.data_extraction_goal),
				field("Proxy location", r.proxy_location),
				field("Webhook", r.webhook_callback_url, "url")),
			h("div", { class: "sub-head" }, h("h3", null, "Navigation payload"), payload[0]),
			payload[1],
			r.extracted_information_schema !== null && r.extracted_information_schema !== undefined ?
				h("details", null, h("summary", null, "Extraction schema"),
					h("pre", { class: "json" }, pretty(r.extracted_information_schema))) : null);
	}

	/* The payload's shape with every scalar replaced, so secrets stay hidden on screen. */
	function maskJson(v) {
		function mask(x) {
			if (Array.isArray(x))
				return x.map(mask);
			if (x && typeof x === "object") {
				var o = {};
				Object.keys(x).forEach(function (k) { o[k] = mask(x[k]); });
				return o;
			}
			return "••••••";
		}
		return pretty(mask(v));
	}

	function resultCard(t) {
		var has = t.extracted_information !== null && t.extracted_information !== undefined;
		return h("section", { class: "card", id: "result" },
			h("h2", null, "Extracted information"),
			has ? h("pre", { class: "json", id: "extracted" }, pretty(t.extracted_information)) :
				h("p", { class: "muted", id: "extracted-none" }, LIVE[t.status] ? "Not yet." : "None."));
	}

	/* Screenshots as a timeline: the listing's (all of them) when present, else the task's URLs. */
	function mediaCard(t, arts) {
		var shots = [];
		var seen = {};

		function add(url, label) {
			var u = safeUrl(url);
			/* Signed URLs differ only in their query string between polls. */
			var k = u ? u.split("?")[0] : null;
			if (!u || seen[k])
				return;
			seen[k] = true;
			shots.push({ url: u, label: label });
		}
		if (Array.isArray(arts)) {
			arts.forEach(function (a) {
				var type = String(a.type || a.artifact_type || "");
				if (/screenshot/.test(type))
					add(a.url || a.signed_url || a.uri, type.replace(/_/g, " ") +
						(a.step !== undefined && a.step !== null ? " · step " + a.step : "") +
						(a.created_at ? " · " + fmtTime(a.created_at) : ""));
			});
		}
		var actionShots = Array.isArray(t.action_screenshot_urls) ? t.action_screenshot_urls.slice().reverse() : [];
		actionShots.forEach(function (u, i) { add(u, "action screenshot " + (i + 1)); });
		add(t.screenshot_url, "final screenshot");

		var rec = safeUrl(t.recording_url);
		return h("section", { class: "card", id: "media" },
			h("h2", null, "Recording"),
			rec ? h("video", { id: "recording", controls: true, preload: "metadata", src: rec,
				"aria-label": "Recording of task " + t.task_id }) :
				h("p", { class: "muted", id: "recording-none" }, "No recording."),
			h("h2", null, "Screenshots"),
			shots.length ? h("ol", { class: "timeline", id: "screenshots" }, shots.map(function (s, i) {
				return h("li", null, h("figure", null,
					h("a", { href: s.url, target: "_blank", rel: "noopener noreferrer" },
						h("img", { src: s.url, alt: "Screenshot " + (i + 1) + ": " + s.label })),
					h("figcaption", null, (i + 1) + ". " + s.label)));
			})) : h("p", { class: "muted" }, "No screenshots yet."));
	}

	function stepsCard(steps, tokIn, tokOut, cost) {
		return h("section", { class: "card", id: "steps" },
			h("h2", null, "Steps (" + steps.length + ")"),
			steps.length ? null : h("p", { class: "muted" }, "No steps yet."),
			steps.map(stepView),
			steps.length ? h("p", { class: "totals", id: "totals" },
				h("strong", null, "Total: "), tokIn + " input + " + tokOut + " output tokens, " + fmtCost(cost)) : null);
	}

	function stepView(s) {
		var out = s.output && typeof s.output === "object" ? s.output : {};
		var actions = Array.isArray(out.actions) ? out.actions : [];

		return h("article", { class: "step", "data-step-id": s.step_id },
			h("header", null,
				h("h3", null, "Step " + s.order + (s.retry_index ? " (retry " + s.retry_index + ")" : "")),
				badge(s.status),
				out.replayed ? h("span", { class: "tag", "data-replayed": "true",
					title: "The step ran the actions of a stored trace, without the model" }, "replayed") : null,
				h("span", { class: "mono muted" }, s.input_token_count + " in / " + s.output_token_count + " out tokens · " + fmtCost(s.step_cost))),
			out.reasoning ? h("p", { class: "reasoning" }, out.reasoning) : null,
			out.replay_handover ? h("p", { class: "muted replay-handover" },
				"Replay handed over to the model: " + out.replay_handover) : null,
			out.model_text ? h("pre", { class: "json" }, out.model_text) : null,
			actions.length ? h("table", { class: "actions" },
				h("thead", null, h("tr", null,
					h("th", { scope: "col" }, "#"),
					h("th", { scope: "col" }, "Action"),
					h("th", { scope: "col" }, "Element"),
					h("th", { scope: "col" }, "Text / option"),
					h("th", { scope: "col" }, "Reasoning"),
					h("th", { scope: "col" }, "Result"))),
				h("tbody", null, actions.map(function (a, i) {
					var res = a.result && typeof a.result === "object" ? a.result : {};
					var ok = res.success === true;
					var el = [a.element, a.label].filter(Boolean).join(" — ");
					var text = a.text !== undefined ? a.text : a.option !== undefined ? a.option :
						a.url !== undefined ? a.url : a.key !== undefined ? a.key : "";
					return h("tr", { class: "action" },
						h("td", { class: "num" }, String(i + 1)),
						h("td", { class: "mono" }, String(a.action || a.type || a.action_type || "")),
						h("td", null, el),
						h("td", null, typeof text === "string" ? text : pretty(text)),
						h("td", null, a.reasoning || ""),
						h("td", null, res.success === undefined ? "—" :
							h("span", { class: ok ? "ok" : "bad" }, ok ? "success" : "error" + (res.error ? ": " + res.error : ""))));
				}))) : h("p", { class: "muted" }, "No actions."),
			s.is_last ? h("p", { class: "muted" }, "Last step.") : null);
	}

	function cancelTask(id, btn, reload) {
		if (!confirm("Cancel task " + id + "?"))
			return;
		btn.disabled = true;
		api("POST", "/api/v1/tasks/" + encodeURIComponent(id) + "/cancel").then(function () {
			hideError();
			reload();
		}, function (e) {
			btn.disabled = false;
			apiError(e);
		});
	}

	// ------------------------------------------------------------ create

	function renderCreate() {
		var root = $("view");

		function row(id, label, control, hint) {
			return h("div", { class: "row" },
				h("label", { for: id }, label),
				control,
				hint ? h("small", { id: id + "-hint", class: "muted" }, hint) : null);
		}

		var form = h("form", { id: "create-form", class: "card", novalidate: true },
			h("h1", null, "New task"),
			row("c-url", "URL (required)", h("input", { id: "c-url", name: "url", type: "url", required: true,
				placeholder: "https://example.com/", "aria-describedby": "c-url-hint" }), "http or https"),
			row("c-goal", "Navigation goal", h("textarea", { id: "c-goal", name: "navigation_goal", rows: 3 })),
			row("c-extract", "Data extraction goal", h("textarea", { id: "c-extract", name: "data_extraction_goal", rows: 2 })),
			row("c-payload", "Navigation payload (JSON)", h("textarea", { id: "c-payload", name: "navigation_payload",
				rows: 4, class: "mono", spellcheck: "false", placeholder: "{\"name\": \"…\"}", "aria-describedby": "c-payload-hint" }),
				"Any JSON; stored as given, never logged."),
			row("c-schema", "Extraction schema (JSON Schema)", h("textarea", { id: "c-schema", name: "extracted_information_schema",
				rows: 4, class: "mono", spellcheck: "false" })),
			row("c-webhook", "Webhook URL", h("input", { id: "c-webhook", name: "webhook_callback_url", type: "url" })),
			row("c-max", "Max steps", h("input", { id: "c-max", name: "max_steps", type: "number", min: "1", step: "1",
				"aria-describedby": "c-max-hint" }), "Sent as x-max-steps-override; empty for the server's default."),
			h("div", { class: "actions-row" },
				h("button", { type: "submit", id: "c-submit", class: "primary" }, "Create task")));

		form.addEventListener("submit", function (ev) {
			var body = {}, headers = {}, v;

			ev.preventDefault();
			hideError();
			v = $("c-url").value.trim();
			if (!v) {
				showError("The URL is required.");
				$("c-url").focus();
				return;
			}
			body.url = v;
			if ((v = $("c-goal").value.trim()))
				body.navigation_goal = v;
			if ((v = $("c-extract").value.trim()))
				body.data_extraction_goal = v;
			if ((v = $("c-webhook").value.trim()))
				body.webhook_callback_url = v;
			try {
				if ((v = $("c-payload").value.trim()))
					body.navigation_payload = JSON.parse(v);
			} catch (e) {
				showError("Navigation payload is not valid JSON: " + e.message);
				$("c-payload").focus();
				return;
			}
			try {
				if ((v = $("c-schema").value.trim()))
					body.extracted_information_schema = JSON.parse(v);
			} catch (e) {
				showError("Extraction schema is not valid JSON: " + e.message);
				$("c-schema").focus();
				return;
			}
			if ((v = $("c-max").value.trim())) {
				if (!/^[1-9][0-9]*$/.test(v)) {
					showError("Max steps must be a whole number ≥ 1.");
					$("c-max").focus();
					return;
				}
				headers["x-max-steps-override"] = v;
			}
			$("c-submit").disabled = true;
			api("POST", "/api/v1/tasks", body, headers).then(function (res) {
				location.hash = "#/tasks/" + encodeURIComponent(res.task_id);
			}, function (e) {
				$("c-submit").disabled = false;
				apiError(e);
			});
		});
		append(root, form);
	}

	// ------------------------------------------------------------ start

	initKeyForm();
	window.addEventListener("hashchange", route);
	route();
})();
