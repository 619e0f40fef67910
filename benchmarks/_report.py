"""docs/BENCHMARKS.md: the figures as tables, each target with its verdict, the machine,
and the command."""

from __future__ import annotations

import os
from typing import Any

from ._harness import REFERENCE, Samples, fmt_us
from .redis_floor import REPLAY

__all__ = ["Report"]

#: start + verify per second that each store must reach.
RATE_TARGETS = {"memory": 10_000, "sqlite": 2_000, "redis": 3_000}
STORE_NAMES = {"memory": "memory://", "sqlite": "sqlite:///", "redis": "redis://"}
#: whole flows a second under load when issue 20 was filed (SQLite, 8 clients, this machine):
#: the target is twice as many.
FLOW_BASELINE = {"starlette": 39.2, "flask": 42.8}
#: the commands that are round trips of their own (the rest run inside the scripts).
ROUND_TRIPS = ("evalsha", "eval", "mget", "del")
#: the slowest level may take this many times the time per operation of the fastest and
#: still count as flat.
FLAT = 1.25


#: what profiling these benchmarks found in stepup, what was changed, and where the time
#: still goes. Kept with the code that measures it; update it with the code it describes.
FINDINGS = [
    "## What the profiles showed",
    "",
    "Profiled with pyinstrument and cProfile; the hot path also by instruction counts (valgrind's "
    "callgrind), which a busy 2-core machine does not disturb. Fixed in `src/stepup`:",
    "",
    "- **The grant log was a nested dict in the session** (subject, nonce, previous nonce, identity "
    "source, hold flag, a dict of method times). Every request decodes it from the cookie, and Flask's "
    "tagged-JSON session serializer walks each nested value. It is now one short string, read with one "
    "split (`grants.py`); times are whole seconds, rounded down (an integer parses in a third of the "
    "time of a decimal); the identity source, which nothing read, is no longer kept.",
    "- **Flask's proxies**: each attribute read through `current_app`, `session` or Flask-Login's "
    "`current_user` cost more than the whole grant check; the adapter resolves each proxy once.",
    "- **Starlette**: the grant check now runs as plain code before any `await`; only a request that "
    "is stopped enters the coroutine that builds the response.",
    "- **What every request still paid** (before: unprotected +6.0% on Flask and +7.7% on Starlette, "
    "protected +10.9% and +14.9%): the grant log kept two nonces, the one a factor replaced beside "
    "the new one, and the cookie carried both (66 characters after a factor, 44 now: the replaced "
    "nonce is its successor's base); a log's reading is kept by its text, so the login-hold check and "
    "the grant check are one look-up, not a split and integer parses. Flask reads Flask-Login's user "
    "from the request context as `current_user` does, without its two proxies; the ASGI middleware "
    "hands a request it lets through straight to the app, without a coroutine of its own; the "
    "clock is `time.time` itself, not a function around it.",
    "- **An unprotected Starlette request sits near its 5% line.** Counted in instructions (callgrind, "
    "which the machine's noise does not move), it costs 4.7% over the session-only app (4.8% under "
    "another hash seed): 2.1% for the grant log in the session cookie, which Starlette's session "
    "verifies (HMAC), base64-decodes and parses on every request (0.8% for a second entry in the "
    "session whatever its size, 1.3% for the log's 44 characters); 1.6% for the middleware's two "
    "checks (who is signed in; whether that login is settled); 0.3% for one more ASGI layer and 0.2% "
    "for stepup's routes in the router. Timed, the same ratio reads 3.4% to 5.7% from one run to the "
    "next on this shared 2-core machine. Writing every check out in the middleware (the user's name, "
    "the log's look-up) saves 0.4%, and lets a second module read the log; a log nine characters "
    "shorter (a 96-bit nonce, times in base 36) would save 0.3%. Neither takes the timed figure out "
    "of the machine's noise; both were left as they are. The timed rows also move with Starlette: "
    "its session-only route took 29 µs on issue 20's page and 35 µs with the Starlette installed "
    "now (1.10). Run in turn on this machine with that Starlette, issue 20's own code (33dffd4) "
    "measured +5.5% unprotected and +13.0% protected, this page's code +5.4% and +14.5%.",
    "- **Rate limits grew with traffic**: the moving window kept the time of every hit in one record, "
    "read and written whole on each hit, and the per-country and per-prefix SMS limits see every SMS: "
    "start + verify ran at 268/s over its first 2,000 SMS, slower with each one. A limit above 100 hits now "
    "counts its hits in 60 buckets per window (it may refuse up to a sixtieth of the window early, "
    "never late); smaller limits stay exact.",
    "- **Codes drew one digit at a time** from the OS's random source (six reads); one draw now. "
    "Each challenge parsed and formatted its number with phonenumbers five times (region for limits "
    "and routes, mask for audit events); both are cached per number. Audit events are built only when "
    "a hook or the logger takes them; the memory and SQLite stores built a JSON encoder per write.",
    "- **Memory per pending challenge**: a record carried every field, defaults included; it now "
    "leaves them out (about 1,000 to 800 bytes). The memory store's expiry heap took an entry per "
    "write, so a rate-limit record written on each SMS kept a day of entries; a record has one now.",
    "- **SQLite**: deleting a record that is not there (a verified code clearing a failure count "
    "that was never set) took a write transaction; it reads first.",
    "- **Twelve store calls per start + verify**, five of them rate-limit hits, each through the "
    "`limits` library's strategy and a store update of its own (a write transaction on SQLite, a script "
    "on Redis), and a verify wrote three times (count the attempt, run the transition, clear the count). "
    "Now a start reads the policy, the subject and the failure record with one `get_many`, and charges "
    "every limit together with writing the new challenge in one `update_many`, all or nothing; a verify "
    "reads the challenge, then checks the back-off, evaluates the code and counts or clears the failure "
    "in one `update_many` over the two records. Four store calls instead of twelve: two write "
    "transactions on SQLite instead of nine, four Redis round trips instead of nineteen (`MGET`, script; "
    "`GET`, script). The Redis store remembers the last value it saw of each key, so its compare-and-set "
    "needs no read first, and redis-py parses replies with hiredis (about a fifth less client CPU per "
    "command).",
    "- **The memory store serialized every record as JSON**, both ways on each update (a quarter of "
    "start + verify); it uses marshal now, five times faster for JSON-able data. Digests use `hmac`'s "
    "one-shot function, a session's digest is remembered, and a challenge is copied without "
    "`dataclasses.replace`'s generic checks: 1.54 million instructions per start + verify on memory:// "
    "before, 0.82 million after (callgrind).",
    "- **Reading, copying and writing a challenge** looped over its 24 fields, and the frozen "
    "dataclass's `__init__` set each through `object.__setattr__`: 14 µs of a start + verify, more than "
    "its two code digests. `to_record`, `evolve` and `from_record` are now written out field by field "
    "when the module loads, as dataclasses writes `__init__`, at a third of the cost: 0.82 million "
    "instructions per start + verify, 0.71 million after.",
    "",
    "Where the time still goes:",
    "",
    "- start + verify on memory:// has grown since its target was met (86 µs on issue 20's page)."
    " In process on one machine, alternated, issue 20's code (33dffd4) took 90 to 100 µs (0.72 "
    "million instructions, callgrind); this page's takes 165 to 184 µs with the audit trail off "
    "and 240 to 276 µs with it kept (1.12 and 1.60 million instructions). The stored trail is "
    "0.48 million of them, most to append its events after each flow (two appends and a seal "
    "every few flows: the effect runner, the store's copy of the head, the repeat check, which "
    "compares an event's type before anything else, since most of a head's recent events are of "
    "another type), the rest to build each event's stored form. Cut since the page before (1.78 "
    "million instructions with the trail kept, counted as the difference between runs of 800 and "
    "200): an event was built as an `AuditEvent` (a frozen dataclass of ten fields), then turned "
    "into a dict without its empty fields when the flow ended, 4 µs an event and four events a "
    "start + verify; the trail now gets that dict built straight from the event's fields, and the"
    " dataclass is built only for a hook or the logger. A policy remembers the methods it allows "
    "per app, route and subject scope (each start and each code checked asked it again), and a "
    "start copies its spec with the written-out `evolve` that `Challenge` already had, not a loop"
    " of its own: 1.60 million. The rest came with the capabilities since: per-client and "
    "per-session limits, the subject's index of open challenges (the support console's), a "
    "workflow's due index, moot challenges cancelled, the subject's language. What is left is "
    "spread thin: the records' marshal copies (about a sixth of the 1.60 million, the price of a "
    "store no caller can change by accident), the limit windows, the effect runner that lets one "
    "flow serve both engines, the digests and the SMS text; no single part stands between it and "
    "100 µs.",
    "- sqlite:/// pays two write transactions per start + verify with the trail off, 4 with it kept "
    "(part 3b counts them): SQLite's file locks (`fcntl`) and WAL writes (`pwrite`), some twenty "
    "system calls each. A bare transaction of one record takes some 15 µs (part 3b), but the steps "
    "write more: the start six records (the challenge, the subject's index of open ones, four limit "
    "windows) and the verify three or four, each an `INSERT` of its JSON, after reading them and "
    "the failure records in two queries. Its floor was memory:// plus its four write "
    'transactions at the bare one\'s time, and read "the floor allows more" (2,995 a second on '
    "the page before this one); part 3b now records the statements of a batch of start + verify "
    "(26 each, their checkpoints included) with their parameters, and replays them in the same "
    "rounds on a copy of the store's file through a bare connection: SQLite and Python's `sqlite3` "
    "driver alone, with no engine, store code or JSON around them, took about as long as the whole "
    "start + verify on memory:// (280 µs each, in process, alternated), a quarter of it the "
    "checkpoints' disk flushes. The store's records land on pages of their own, so a transaction "
    "of its six costs more than six adjacent rows would. Writing a transaction's records with one "
    "`executemany` instead of one `execute` each made no difference that the machine's noise did not "
    "hide, and was not kept. From 1,000 to 1,000,000 pending its time grows by up to a fifth: the "
    "records' B-tree is a level deeper and each step's reads and writes land on pages of their own; a "
    "32 MiB page cache or a memory-mapped file made no difference that the noise did not hide. A "
    "record over about 1,000 bytes spills out of its B-tree page into overflow pages (a WITHOUT "
    "ROWID table keeps at most about a quarter of a 4 KiB page in a row): a transaction rewriting "
    "a trail head of 2.5 KB took 56 to 63 µs against 28 to 33 µs for 250 to 900 bytes. Pages of "
    "8 and 16 KiB did no better (their larger WAL frames cost what the overflow saved), and heads "
    "of 4 events instead of 10, under the line, moved the rates by less than the noise; both "
    "were left.",
    "- **redis:// sent five round trips per start + verify** (`MGET` of the policy and subject, `GET` "
    "of the login's end, the charge script; `MGET` of the challenge and the login's end, the verify "
    "script), each through redis-py's whole command path (response callbacks, its retry object, "
    "observability hooks, a health check: about 20 µs of CPU a command against 12 µs for the round "
    "trip itself, measured with a bare loop). Now a step whose writes depend on what it read is one "
    "store call, `update_after`: the Redis store runs it on the values it remembers and one script "
    "confirms the records read and writes (compare-and-set over both, one hash slot on a cluster), so "
    "a verify is one round trip and a start two (the policy and subject `MGET`, then a script that "
    "also reads the login's end). Its commands are written straight on a pooled connection, packed "
    "by hiredis; a dropped connection goes back through redis-py's path and its retries. What is left "
    "is CPU in the app: the start's script carries nine records (five limits, two lock records, the "
    "login's end, the challenge), each decoded from JSON and the written ones encoded again.",
    "- **The stored audit trail doubled a start + verify on redis://** (issue 20 read 1,576 µs against "
    "a bound of 935 µs with it kept): each flow appends its events to the subject's trail when it "
    "ends, a script of its own, because the events come after the flow's atomic step (a start's "
    "`issued` and `sent` after the SMS is handed over, a verify's `verified` and `step_up_passed` "
    "after the approval), so they cannot ride in that step's script without writing an event before "
    "it happened. Part 3b now measures both: with the trail off a start + verify is 2 round trips "
    "(`EVALSHA` each); with it kept 4, and a fifth every few flows when the trail's head is sealed "
    "as a chunk. Each append rewrites the head, compare-and-set against the whole head as the store "
    "last saw it, so with heads of 25 events (some 3.5 KB) the server spent about as long on a "
    "trail's script as on a step's (`INFO commandstats` `usec`, in the table). A head now holds 10 "
    "events: in one interleaved run, 6% less wall time and 9% less CPU per start + verify than 25 "
    "(less to decode, encode, send and compare), though it is sealed more often, a round trip more "
    "each time (5 events: no better than 10); and memory:// runs 5% fewer instructions (callgrind). "
    "Events are stored without their empty fields (about 250 bytes each instead of 280), and a "
    "step's read-only records are no longer decoded twice on the client. A full head is now sealed "
    "in the append's own step (one script writes the head, the chunk and the deletion of the chunk "
    "past the cap): 4.0 scripts per start + verify instead of 4.5, and a store that fails in "
    "between can no longer leave a head naming a chunk it lost. An append the process knows will "
    "fit (by the head's length it last wrote) stays a one-record update: reading and then writing "
    "on every append had cost memory:// 8.9% more instructions (1.749 to 1.904 million a start + "
    "verify); 1.771 million now. On SQLite, `update_after` no longer reads again, in its "
    "transaction, the rows it has just read (25.5 statements a start + verify instead of 26.0). "
    "Where redis:// still misses "
    "its bound, the "
    "target table shows the bound rebuilt from the same run's floors: the round trips the case "
    "measured at the bare `GET`'s time, plus the server's own time in them.",
    "- **Whole flow under load, profiled again** (cProfile on the thread's CPU time and pyinstrument in "
    "the uvicorn server, SQLite, eight clients): the server's thread spends about half its CPU in "
    "stepup's routes, and of that about as much rendering pages (Jinja templates, WTForms fields, "
    "two signed CSRF tokens a code page, each a JSON dump, a zlib attempt and an HMAC through "
    "itsdangerous) as running the engine's flows; the rest is uvicorn's HTTP parsing (h11), "
    "Starlette's middleware stack and its signed session cookie, and the bank's own pages. Each of "
    "a flow's 14 requests runs a few engine flows and store calls (a page reads the subject, its "
    "chosen language and the login's end; on SQLite each call is a hop to a worker thread), none of "
    "them a hot spot by itself. At about 40 ms of CPU per flow on one core, one uvicorn worker "
    "cannot reach twice issue 20's 39.2 flows a second (78 would need under 13 ms a flow, under a "
    "millisecond a request, which is what the framework alone takes for a page); the targets are "
    "reported and missed, with what stands in the way said here rather than fixed by halves in the "
    "web layer, which issue 17 is reshaping.",
    "- **Whole flow under load** (pyinstrument in the uvicorn server, SQLite, eight clients, a "
    "machine whose load average was about 15): the server's thread was busy half the time "
    "(7.5 s of CPU in 15 s), about 50 ms of CPU per flow of 14 requests. Most samples fall in the "
    "kernel's socket sends and in C calls that give up the interpreter lock (zlib in signed "
    "tokens, SQLite), where the event loop waits for the lock the store's worker threads hold: "
    "no single function of stepup stands out. The first run of the flow on this branch stopped "
    "after some 15 flows per user with 429s, on main's code too: the load test had not raised the "
    "per-client and bound-number limits added since its last run; it does now.",
    "- **A whole flow's CPU, in process** (`python -m benchmarks.flowcpu`; `python -m benchmarks "
    "--only flowcpu` prints the same): the load driver's flow of 14 requests through each bank, the "
    "Flask bank through its test client and the Starlette bank through httpx's ASGI transport on one "
    "event loop, on SQLite, with no server and no network; its figure is the CPU time of every thread"
    " of the process, which the machine's other work moves far less than wall time, and `--compare "
    "SRC` runs another copy of `src` (say main's, from `git archive`) in alternating fresh processes."
    " About 20 to 25 ms of CPU a flow on Flask and 25 to 32 ms on Starlette on this machine, of which"
    " stepup's routes, pages and flows are a minority. Fixed: a page signed its CSRF value once per "
    "form (a code page has two, each a JSON dump, a zlib attempt and an HMAC), and now once: the "
    "keyring hands back the token it made for the same string and purpose within the same second, the"
    " very bytes signing again would give; the ASGI adapter's Jinja environment checked each "
    "template's file and its parents' on every render (`auto_reload`), which Flask's does not outside"
    " debug mode, and now reads them once; the code page built a passkey form (and its token) on "
    "every page, shown only on a passkey's; the Flask adapter read Flask's request proxy a dozen "
    "times per stepup request; and `load_resume` read the saved request and the login's end in two "
    "store calls (two hops to a worker thread on the async SQLite store), now one `get_many`. Against"
    " main's code, in interleaved runs of fresh processes: 4% to 12% less CPU a flow on Flask and 3% "
    "to 9% on Starlette (the spread between runs is the machine's); by callgrind, which the machine "
    "does not disturb, 92.5 million instructions a flow before and 87.2 after on Flask, 99.9 and 96.5"
    " on Starlette. Left then: a choose page read the subject's record two or three times, and on "
    "Starlette each SQLite call was a hop to a worker thread, some forty a flow (both fixed since, "
    "below).",
    "- **A whole flow, store calls and pages** (counted per request in process, by wrapping the "
    "store, and profiled with cProfile per request): a flow made 37 store calls, 24 of them reads, "
    "and on Starlette each was a hop to a worker thread, which cost more CPU than the SQLite query "
    "it ran. Now a web request reads the signed-in subject's record once (the choose page read it "
    "for the methods it offers, again for the enrolment rule and again for its language; any "
    "write the request makes forgets it); the async engine reads SQLite on its event loop when "
    "SQLite can answer at once (WAL mode: a read waits for no writer; one that would wait goes to "
    "the thread, which fails closed as before), so only writes hop; and memory:// and sqlite:/// "
    "read and write a step in one call (`update_after`: one lock, one write transaction, one hop). "
    "Writing inline on the loop too saved under 2% more in process, one flow at a time, and was "
    "not kept then (under load it is worth far more: below). A code page cost more to render than "
    "the bank's whole "
    "login page: WTForms wrote each input's attributes one `Markup.format` at a time and walked "
    "`dir()` of its flags, and `_t` looked up and escaped each message on every call; stepup's "
    "fields now write the same HTML with plain joins (a test compares every field with WTForms' "
    "own), and messages are looked up once a locale: a code page 4.3 to 2.4 million "
    "instructions, a choose page 2.2 to 1.2 million (callgrind). A start copies its spec without "
    "`dataclasses.replace` and measures its SMS with set operations: 1.39 to 1.31 million "
    "instructions per start + verify on memory://. Against the code before these changes, "
    "alternated in fresh processes (`flowcpu --compare`): about 16% less CPU a flow on Starlette "
    "and 4% to 8% on Flask. Under load, the tables now give the CPU the server and the driver "
    "spent per flow and the rate that CPU allows on the machine's two cores (one, for a server of "
    "one worker): the flows a second follow it. The Flask bank under gunicorn spends some 10 ms of "
    "CPU a flow more than the same 14 requests in process (gunicorn's HTTP handling and the hand-off "
    "between its threads; the protected route's row shows what a request costs the server where "
    "stepup's check adds 5 µs). On uvicorn, httptools and uvloop (uvicorn's `standard` extras) cut "
    "the server's CPU a flow by 10% to 15% (`make bench` installs and names them since: below) and a "
    "second worker doubles the core it may use; the table keeps issue 20's one. What a flow costs "
    "then was spread over the "
    "frameworks' request and session handling, rendering, the engine's flows and their store "
    "writes (27 store calls a flow instead of 37; 13 writes, six of them the audit trail's appends), "
    "none of them a hot spot.",
    "- **Whole flow under load, the writes' hops** (the uvicorn server's CPU read per thread from "
    "`/proc`, eight clients, SQLite): the event loop's thread was busy three quarters of the time "
    "and the worker threads spent some 7 ms of CPU a flow, nearly all of it handing the "
    "interpreter lock to and fro around the store's 13 writes a flow (each write a hop to a thread "
    "and back, each side waiting for the lock the other held); one flow at a time, in process, "
    "the same hops cost little, which is why writing inline was not kept before. Now the async "
    "engine writes SQLite on its loop when SQLite can without waiting (a connection whose busy "
    "timeout is 0; a write that would wait, for another thread's or process's, is rolled back and "
    "made in a thread, which waits up to the store's timeout and then fails closed as before). "
    "The loop's connection never checkpoints: every 256 writes a `PRAGMA wal_checkpoint(PASSIVE)` "
    "runs in a thread, and so does the purge of expired records, so the loop never waits for a "
    "disk flush. Measured outside `make bench`, alternating the code before and after on a quiet "
    "machine: the worker threads' CPU fell from about 4.3 s to 0.9 s in 15 s, the server's CPU a "
    "flow from 25 to 29 ms to 17 to 23 ms, and the flows a second from 35 to 39 to 43 to 62, with "
    "p99 per flow from over a second to 0.2 to 0.4 s. The example banks' ledger opened its file "
    "for each call (half a millisecond of CPU a transfer) and now keeps one connection, in WAL "
    "mode. The audit trail compared each new event with the head's recent ones through a list "
    "and a generator per comparison: 5% of a start + verify on memory:// (1.88 to 1.79 million "
    "instructions, callgrind). This machine's venv had uvloop and httptools, installed by hand, "
    "so uvicorn ran on them here and would not have on a clean checkout: `make bench` now "
    "installs both and names them on uvicorn's command line. On gunicorn, the Flask bank's "
    "worker threads spend 27 to 28 ms of user CPU a flow (read per thread) where the same 14 "
    "requests take 18 ms in process: gunicorn's HTTP handling and the hand-off of each kept-alive "
    "connection between its poller and its threads (with one thread a worker, 27.7 ms a flow "
    "against 30 to 32 ms with four). On redis://, the Starlette bank's loop spent about a quarter "
    "of its CPU in redis-py's asyncio command path (its pool's locks, its retry wrapper, its "
    "timeout scopes) around some 27 commands a flow; the asyncio store now writes its four "
    "commands straight on pooled connections, as the sync store already did (a connection whose "
    "command was cut off is disconnected, never reused with its reply on the way): 25 to 28 ms "
    "of server CPU a flow fell to 21 to 22, and 37 to 41 flows a second rose to 46 to 49, "
    "alternating the two on a quiet machine.",
    "- **Whole flow under load, the waits for SQLite's write lock** (counted in the servers, "
    "eight clients): on the Starlette bank 46% of the writes went to worker threads (68 s of "
    "waiting in a 15 s run), though only one in 256 needed to. Each write in a thread held the "
    "lock longer, waiting for the interpreter while the loop ran, so the next writes on the loop "
    "found it taken and went to threads too, and the queue fed itself. Writes that come while "
    "one of the loop's own is in a thread now wait for it and are then made on the loop: 0.4% "
    "went to threads. Under gunicorn, SQLite's own wait (its busy handler, polling at growing "
    "intervals up to 100 ms) kept one write in a hundred waiting over 40 ms for transactions "
    "that held the lock for 0.2 ms; a process's threads now take turns on a lock of the store's, "
    "each woken as the one before commits, and against another process a write tries again "
    "after 0.2 to 2 ms. Alternating the code before and after on a quiet machine (two runs each, "
    "15 s): the Starlette bank on SQLite went from 39.6 to 39.8 flows a second to 56.4 to 59.2, "
    "its server CPU a flow from 25.5 to 25.8 ms to 17.4 to 18.2, p99 per request from 169 to "
    "188 ms to 29 to 31 ms and p99 per flow from 0.86 to 1.02 s to 0.22 s; the Flask bank on "
    "SQLite went from 50.5 to 55.4 flows a second to 55.5 to 64.6, p99 per request from 74 to "
    "86 ms to 35 to 41 ms, its slowest request from about 0.5 s to 0.1 s. What stands between "
    "the Starlette bank and 78 flows a second is its loop's CPU, now busy all the time: 17 to "
    "18 ms a flow on one core, where 78 needs 12.8, spread over SQLite's statements (about 15%), "
    "Starlette and uvicorn (16%), rendering (15%), WTForms (9%), itsdangerous and hmac (10%) and "
    "JSON (8%).",
    "- **Whole flow under load, signatures, forms and Redis commands** (py-spy in the uvicorn "
    "server, eight clients): the keyring kept the token of the last string it signed in the "
    "second, so that a page's forms sign its CSRF value once; under load the pages of eight "
    "sessions interleave and each form signed again, about 5% of the loop. It now keeps this "
    "second's tokens per purpose and value (at most 1,024, emptied each second), and no longer "
    "tries to compress a payload of 256 bytes or less (zlib's attempt cost more than the "
    "signature; a longer one, a return URL of quotes or accents, is compressed as before, and a "
    "compressed token made before still reads). WTForms wrote each attribute of the banks' own "
    "form inputs and labels with `Markup.format`, two thirds of their sign-in and transfer pages: "
    "an app's `StepUpForm` now writes WTForms' own `<input>` widgets and labels with stepup's "
    "`html_params`, the same HTML (317 and 337 µs to 76 and 85 µs a render). On redis://, each "
    "command is bounded by one `asyncio.timeout` scope instead of redis-py's "
    "`asyncio.wait_for` on Python 3.11 (a task per write). The Starlette example reads its own "
    "templates once. Alternating the code before and after (two runs each, 15 s): the Starlette "
    "bank's server CPU a flow on redis:// from 18.6 and 19.6 ms to 16.9 and 16.9 ms (52 to 55 "
    "flows a second to 60), on SQLite from 16.7 and 16.7 ms to 15.2 and 16.7 ms; the Flask "
    "bank's moved within the machine's spread. In process (`flowcpu --compare`, five rounds), "
    "4.8% less CPU a flow on Starlette and 1.7% on Flask. What a flow's 14 requests cost the "
    "Starlette bank now (in process, SQLite): its four POSTs to stepup 7.6 of 13.6 ms, each "
    "request of them running several engine flows and 3 to 4 write transactions (12.8 a flow, "
    "5.8 of them the audit trail's appends); 18 WTForms forms a flow; the bank's pages about "
    "2 ms.",
    "- **Whole flow under load, a browser's flow and what every request paid** (py-spy in the "
    "uvicorn server, cProfile per request in process): the load driver sent no Fetch Metadata, "
    "so it was shown the choose page that a browser skips since stepup sends the one method's "
    "code as the page is reached (a same-site navigation); it now sends what a browser sends, 12 "
    "requests a flow, and a row a bank keeps the 14 of a client that sends none. The records' "
    "JSON was a twentieth of the loop (the trail's 2 KB head read and written on each append): "
    "with orjson (the `speedups` extra, also in `redis`) it is written in 2 µs instead of 25 and "
    "read in 6 instead of 16, the json module answering wherever orjson would answer otherwise. "
    "itsdangerous took some thirty calls a token (a signer made and the key derived every "
    "time): the keyring reads and writes the same tokens in a few (5 µs a read instead of 12). "
    "A sealed trail chunk and the one it drops are one write, not two; a browser's one-method "
    "visit starts its challenge before any form is built; a begun login's requests to stepup's "
    "pages skip the login hold's engine run, whose answer the session gives; the login's end "
    "key and the client's canonical address are remembered; the adapters keep their web layer "
    "(a config, a core and ten handler groups) per prefix instead of making it per request; "
    "the example banks write their language links out and build a logout form only where one "
    "is shown. Alternating stepup before and after under the same driver (15 s runs): the "
    "Starlette bank's server CPU a flow on SQLite from 15 to 18 ms to 12 to 16 ms, on redis:// "
    "from 20.9 to 17.0 ms; the Flask bank's from 25 to 28 ms to 22.5 to 25 ms on SQLite and "
    "26.2 to 22.8 ms on redis://. The machine's speed moved as much between runs as the "
    "change did within a pair.",
    "- **A round trip fewer at login, and the driver's own CPU** (cProfile per request in "
    "process, py-spy in both servers, alternated 15 s runs): the held login's first page (where "
    "the password's form redirects) was a redirect to the choose page, which then sent the one "
    "method's code and redirected again; the gate now takes that step itself for a browser's "
    "same-origin GET and answers with the code page, 11 requests a flow instead of 12. Taking it "
    "for stopped operations too (10 requests) cut the Starlette bank's CPU a flow from 13.7, "
    "15.0 and 14.7 ms to 13.0, 13.7 and 11.7 ms, but a form sent twice then sent two codes, where "
    "the browser follows the choose page's redirect once: operations go through the choose page "
    "again. The load driver runs on uvloop: 1.7 to 1.9 ms of CPU a flow instead of 2.4 to 3.0, "
    "out of the two cores the Flask bank's server has. What was measured and left: SQLite's own "
    "work is small (a write transaction of six rows takes 20 to 29 µs; `executemany` saves 4 µs "
    "of it); the code page's render is half of its request (330 µs when hot: Jinja's calls, "
    "markup objects, the form's fields, the macros imported with context and so run again each "
    "time); Flask's own cookie session costs about 100 µs a request in a flow; gunicorn's four "
    "threads a worker cost 2 to 4 ms of CPU a flow against one, and its two workers share the "
    "load evenly (10.2 and 9.9 s of CPU in one run), so a new connection for each flow changed "
    "nothing.",
    "",
]


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _floor_verdict(allowed: float, target: float) -> str:
    """Whether a floor measured in the run explains a rate's miss: it allows less."""
    return "the miss is the floor's" if allowed < target else "**missed**: the floor allows more"


class Report:
    """Collects each part's figures, then renders the page."""

    def __init__(self, machine: dict[str, str], command: str) -> None:
        self.machine = machine
        self.command = command
        self.seconds = 0.0
        self.targets: list[tuple[str, str, str]] = []
        self.sections: dict[str, list[str]] = {"hot": [], "peer": [], "challenge": [], "load": [], "load_errors": []}
        #: each store's reference-loop time, seconds per ten thousand multiply-adds.
        self.speeds: list[tuple[str, float]] = []

    # -- 1. hot path ---------------------------------------------------------------------------

    def hot_path(self, framework: str, s: Samples, rounds: int, batch: int) -> None:
        lines = [
            f"**{framework}** ({'bare WSGI call' if framework == 'Flask' else 'raw ASGI call'}; "
            f"{rounds} rounds of {batch} requests per set-up)",
            "",
            "| set-up | per request (median) | vs. session (paired median) | added to session (paired median) |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in s.per_round:
            ratio = s.ratio(name, "session")
            lines.append(
                f"| {name} | {fmt_us(s.median(name))} | {ratio:.3f}× ({_pct(ratio)}) "
                f"| {fmt_us(s.difference(name, 'session'))} |"
            )
        self.sections["hot"] += [*lines, ""]
        unprotected, protected = s.ratio("stepup, unprotected", "session"), s.ratio("stepup, protected", "session")
        self.targets.append(
            (f"{framework}: unprotected route, stepup installed, ≤ 5% over session only", _pct(unprotected),
             _verdict(unprotected <= 1.05))
        )  # fmt: skip
        self.targets.append(
            (f"{framework}: protected route, valid grant, ≤ 15% over session only", _pct(protected),
             _verdict(protected <= 1.15))
        )  # fmt: skip

    # -- 2. peer -------------------------------------------------------------------------------

    def peer(self, s: Samples, cookies: dict[str, bool], rounds: int, batch: int) -> None:
        fst, fst_fresh = "Flask-Security-Too auth_required", "Flask-Security-Too auth_required(within=5)"
        su, su_fresh = "stepup login_required", "stepup step_up_required(max_age=300)"
        lines = [
            f"The same Flask route (bare WSGI call; {rounds} rounds of {batch} requests), a user signed in; "
            "Flask-Security-Too 5 with its SQLAlchemy user model on in-memory SQLite, stepup with "
            "Flask-Login and the memory store.",
            "",
            "| route | per request (median) | the freshness check adds (paired median) | re-signs the session cookie |",
            "| --- | ---: | ---: | :---: |",
            f"| {fst} | {fmt_us(s.median(fst))} | | {'yes' if cookies[fst] else 'no'} |",
            f"| {fst_fresh} | {fmt_us(s.median(fst_fresh))} | {fmt_us(s.difference(fst_fresh, fst))} | "
            f"{'yes' if cookies[fst_fresh] else 'no'} |",
            f"| {su} | {fmt_us(s.median(su))} | | {'yes' if cookies[su] else 'no'} |",
            f"| {su_fresh} | {fmt_us(s.median(su_fresh))} | {fmt_us(s.difference(su_fresh, su))} | "
            f"{'yes' if cookies[su_fresh] else 'no'} |",
            "",
        ]
        ratio = s.ratio(su_fresh, fst_fresh)
        lines.append(
            f"stepup's protected route costs {ratio:.3f}× Flask-Security-Too's fresh route per request "
            f"(paired median); its check adds {fmt_us(s.difference(su_fresh, su))} where "
            f"Flask-Security-Too's adds {fmt_us(s.difference(fst_fresh, fst))}."
        )
        self.sections["peer"] += [*lines, ""]
        self.targets.append(
            ("Flask: protected route cheaper per request than Flask-Security-Too's freshness check",
             f"{ratio:.2f}× its time", _verdict(ratio < 1))
        )  # fmt: skip

    # -- 3. challenge path -------------------------------------------------------------------

    def challenges(
        self, kind: str, fills: list[Any], s: Samples, *, rounds: int, batch: int, version: str = ""
    ) -> None:
        names = [name for name in s.per_round if name != REFERENCE]
        first = names[0]
        has_key = any(f.key_bytes for f in fills)
        head = (
            "| pending | start + verify per second | per operation (median) | vs. 1,000 pending "
            "| bytes per pending challenge |"
        )
        rule = "| ---: | ---: | ---: | ---: | ---: |"
        if has_key:
            head += " `MEMORY USAGE` of one |"
            rule += " ---: |"
        title = f"**{STORE_NAMES[kind]}**" + (f" (Redis {version})" if version else "")
        lines = [f"{title}: {rounds} rounds of {batch} start + verify per level", "", head, rule]
        worst = 1.0
        for fill, name in zip(fills, names, strict=True):
            ratio = s.ratio(name, first)
            worst = max(worst, ratio)
            size = f"{fill.bytes_per_pending:,.0f}" if fill.bytes_per_pending is not None else "not measured"
            row = f"| {fill.pending:,} | {1 / s.median(name):,.0f} | {fmt_us(s.median(name))} | {ratio:.2f}× | {size} |"
            if has_key:
                row += f" {fill.key_bytes:,} |"
            lines.append(row)
        lines += [
            "",
            f"The machine's speed in these rounds: the reference loop took {fmt_us(s.median(REFERENCE))} "
            "per ten thousand multiply-adds (median).",
        ]
        self.speeds.append((STORE_NAMES[kind], s.median(REFERENCE)))
        self.sections["challenge"] += [*lines, ""]
        rate = 1 / s.median(first)
        target = RATE_TARGETS[kind]
        self.targets.append(
            (f"{STORE_NAMES[kind]}: ≥ {target:,} start + verify per second", f"{rate:,.0f}/s", _verdict(rate >= target))
        )
        self.targets.append(
            (f"{STORE_NAMES[kind]}: time per operation flat up to {fills[-1].pending:,} pending "
             f"(≤ {FLAT}× the 1,000 level)",
             f"{worst:.2f}×", _verdict(worst <= FLAT))
        )  # fmt: skip
        if kind == "memory":
            # Judged where the growth of the store's hash table is spread over the records that
            # share it: at 1,000 pending, one resize of the table is a large part of the figure.
            at_scale = fills[-1].bytes_per_pending
            self.targets.append(
                (f"memory://: ≤ 1 KiB per pending challenge (at {fills[-1].pending:,})", f"{at_scale:,.0f} B",
                 _verdict(at_scale <= 1024))
            )  # fmt: skip

    def redis_floor(self, run: Any, *, rounds: int, batch: int) -> None:
        """Part 3b: the Redis store beside memory:// and the floor of a round trip, with the
        stored audit trail and without it."""
        s = run.samples
        floor = s.median("bare redis-py GET")
        lines = [
            f"**redis:// against its floor**, one interleaved run: {rounds} rounds of {batch} of each case",
            "",
            "| case | per operation (median) | per second | round trips | commands (`INFO commandstats`) |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        for name in s.per_round:
            counted = run.commands.get(name)
            trips = "" if counted is None else f"{_round_trips(counted):.2f}"
            if name in run.transactions:
                trips = f"{run.transactions[name]:.2f} write transactions"
            listed = "" if counted is None else ", ".join(
                f"{k.upper()} {v:.2f}" for k, v in sorted(counted.items()) if v >= 0.005
            )  # fmt: skip
            lines.append(f"| {name} | {fmt_us(s.median(name))} | {1 / s.median(name):,.0f} | {trips} | {listed} |")
        if run.benchmark_get is not None:
            lines.append(f"| `redis-benchmark -c 1 -t get` (C client) | {fmt_us(run.benchmark_get)} | "
                         f"{1 / run.benchmark_get:,.0f} | 1 | |")  # fmt: skip
        lines += [
            "",
            "Commands per start + verify, counted over a batch of each redis:// case run alone after the "
            "rounds: the scripts and `MGET`s are round trips; the `GET`s and `SET`s run inside the scripts, "
            "but for a top-level `GET` where a step reads a record it does not change. With the trail kept, "
            "each flow appends its events to the subject's trail after it ends (a start's `issued` and `sent` "
            "come after its atomic step and the SMS; a verify's `verified` after its approval), a script of "
            "its own: two round trips more per start + verify. A full head is sealed as a chunk in the "
            "same script.",
            "",
        ]
        self.sections["challenge"] += lines
        for trail in ("", ", trail off"):
            memory, redis_op = (
                s.median(f"start + verify, memory://{trail}"),
                s.median(f"start + verify, redis://{trail}"),
            )
            trips = _round_trips(run.commands.get(f"start + verify, redis://{trail}", {}))
            label = " (audit trail kept, the default)" if not trail else " (audit trail off)"
            bound = 1.5 * (memory + 2 * floor)
            self.targets.append(
                (f"redis://{label}: within 1.5× of (memory:// + two round trips of the floor), one interleaved run",
                 f"{fmt_us(redis_op)} vs. {fmt_us(bound)} (memory {fmt_us(memory)}, floor GET {fmt_us(floor)})",
                 _verdict(redis_op <= bound))
            )  # fmt: skip
            if redis_op <= bound:
                continue
            # The miss explained by floors of the same run: the round trips this case
            # measured, each at the floor's time, and the server's own time in them.
            name = f"start + verify, redis://{trail}"
            served = run.server_time.get(name, 0.0)
            measured = 1.5 * (memory + trips * floor + served)
            self.targets.append(
                (f"redis://{label}: within 1.5× of (memory:// + its {trips:.2f} round trips of the floor + the "
                 "server's time in them)",
                 f"{fmt_us(redis_op)} vs. {fmt_us(measured)} (server {fmt_us(served)})", _verdict(redis_op <= measured))
            )  # fmt: skip
        rate = 1 / s.median("start + verify, redis://")
        self.targets.append(
            ("redis://: ≥ 3,000 start + verify per second (the interleaved run)", f"{rate:,.0f}/s",
             _verdict(rate >= 3000))
        )  # fmt: skip
        memory = s.median("start + verify, memory://")
        if rate < 3000:
            allowed = 1 / (memory + 2 * floor)
            self.targets.append(
                ("redis://: the most a second its floor allows, memory:// + two round trips of the floor GET "
                 "(the interleaved run)",
                 f"{allowed:,.0f}/s ({fmt_us(memory)} + 2 × {fmt_us(floor)})", _floor_verdict(allowed, 3000))
            )  # fmt: skip
        self._sqlite_floor(run, memory)

    def _sqlite_floor(self, run: Any, memory: float) -> None:
        """sqlite:///'s rate in the interleaved run, and the rate its floor allows:
        memory:// plus the store's statements, replayed on a bare connection."""
        s, name = run.samples, "start + verify, sqlite:///"
        if name not in s.per_round:
            return
        rate, target = 1 / s.median(name), RATE_TARGETS["sqlite"]
        self.targets.append(
            (f"sqlite:///: ≥ {target:,} start + verify per second (the interleaved run)", f"{rate:,.0f}/s",
             _verdict(rate >= target))
        )  # fmt: skip
        if rate >= target:
            return
        replayed, count = s.median(REPLAY), run.transactions.get(name, 0.0)
        allowed = 1 / (memory + replayed)
        self.targets.append(
            (f"sqlite:///: the most a second its floor allows, memory:// + its {run.statements:.1f} statements "
             f"({count:.2f} write transactions) replayed on a bare connection (the interleaved run)",
             f"{allowed:,.0f}/s ({fmt_us(memory)} + {fmt_us(replayed)})", _floor_verdict(allowed, target))
        )  # fmt: skip

    def peer_challenge(self, s: Samples, *, rounds: int, batch: int) -> None:
        """Part 3c: one SMS code sent and checked, Flask-Security-Too beside stepup's stores."""
        from .peer_challenge import OVER_HTTP, WHAT_EACH_DOES
        from .peer_http import FST_LOGIN

        names = [name for name in s.per_round if "HTTP" not in name]
        peer = names[0]
        lines = [
            f"**Against Flask-Security-Too** (its two-factor SMS code), one interleaved run: {rounds} rounds "
            f"of {batch} codes per case, wall time on one thread",
            "",
            "| case | per code (median) | codes per second | vs. Flask-Security-Too (paired median) |",
            "| --- | ---: | ---: | ---: |",
            *(f"| {name} | {fmt_us(s.median(name))} | {1 / s.median(name):,.0f} | {s.ratio(name, peer):.3f}× |"
              for name in names),
            "",
            *(f"- {side} per code: {text}." for side, text in WHAT_EACH_DOES.items()),
            "",
            "So the ratio is not like for like: most of Flask-Security-Too's time is its two "
            "decryptions of the TOTP secret, which stepup does not need (its codes are random and "
            "only their keyed digest is kept), while stepup does the bookkeeping Flask-Security-Too "
            "leaves out (a challenge per code, attempts, single use, limits).",
            "",
        ]  # fmt: skip
        self.sections["challenge"] += lines + self._peer_http(s, OVER_HTTP, FST_LOGIN)

    def _peer_http(self, s: Samples, over_http: dict[str, str], fst_login: str) -> list[str]:
        """Part 3c over HTTP: each side's requests for one code, in the same rounds."""
        http = [name for name in s.per_round if "HTTP" in name]
        if not http:
            return []
        fst = next(name for name in http if name.startswith("Flask-Security-Too") and name != fst_login)
        rows = []
        for name in http:
            if name == fst_login or name.endswith("no second factor"):
                continue
            base = fst_login if name == fst else next((n for n in http if n.endswith("no second factor")), None)
            base = base if "pages" in name or name == fst else None
            cost = s.difference(name, base) if base else s.median(name)
            fst_cost = s.difference(fst, fst_login)
            rows.append(
                f"| {name} | {fmt_us(s.median(name))} | {fmt_us(s.median(base)) if base else ''} | "
                f"{fmt_us(cost)} | {cost / fst_cost:.3f}× |"
            )
        return [
            "**Over HTTP**, in the same rounds: each app's WSGI stack through Flask's test client (no sockets), "
            "wall time on one thread",
            "",
            "| case | per code (median) | its sign-in alone, taken off | the second factor (paired median) | "
            "vs. Flask-Security-Too's |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            *(f"- {side}: {text}." for side, text in over_http.items()),
            "",
        ]

    def skipped(self, kind: str, reason: str) -> None:
        self.sections["challenge"] += [f"**{STORE_NAMES[kind]}**: not run ({reason}).", ""]
        self.targets.append(
            (f"{STORE_NAMES[kind]}: ≥ {RATE_TARGETS[kind]:,} start + verify per second", "not run", "**not run**")
        )

    # -- 4. under load -------------------------------------------------------------------------

    def load(self, server: str, r: dict[str, Any]) -> None:
        if not self.sections["load"]:
            self.sections["load"] += [
                "| app | server | store | what each client does | clients | seconds | throughput | p50 | p99 "
                "| p99 per request | CPU: server, driver | at most, by that CPU | errors "
                "| transfers (lost / doubled / unexpected) |",
                "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            ]
        lat, per_request = r["latency"], r["request_latency"]
        if r["scenario"] == "protected":
            what = "`GET /api/balance`, valid grant"
            rate = f"{r['done'] / r['seconds']:,.0f} req/s"
            transfers = ""
        elif r.get("browser", True):
            what = "sign in + SMS code + transfer + SMS code + replay, as a browser (11 requests)"
        else:
            what = "the same, sending no Fetch Metadata: the choose page shown (14 requests)"
        if r["scenario"] != "protected":
            rate = f"{r['done'] / r['seconds']:,.1f} flows/s ({r['requests'] / r['seconds']:,.0f} req/s)"
            transfers = f"{r['ledger']:,} done: {r['lost']} / {r['doubled']} / {r['unexpected']}"
        app = "Starlette" if server == "starlette" else "Flask"
        unit = "request" if r["scenario"] == "protected" else "flow"
        server_cpu, driver_cpu = r["server_cpu"] / r["done"], r["cpu"] / r["done"]
        self.sections["load"].append(
            f"| {app} | {r['server']} | {r['store']} | {what} | {r['clients']} | {r['seconds']:.0f} | {rate} | "
            f"{lat['p50'] * 1000:.1f} ms | {lat['p99'] * 1000:.1f} ms | {per_request['p99'] * 1000:.1f} ms | "
            f"{server_cpu * 1000:.2f} ms, {driver_cpu * 1000:.2f} ms a {unit} | "
            f"{_ceiling(r['server'], server_cpu, driver_cpu):,.{0 if unit == 'request' else 1}f}/s | "
            f"{r['errors']} | {transfers} |"
        )
        ok = r["errors"] == 0 and not r["server_errors"]
        if r["scenario"] == "protected":
            self.targets.append(
                (f"{app} under load: protected route, no error, p99 < 50 ms",
                 f"{lat['p99'] * 1000:.1f} ms, {r['errors']} errors",
                 _verdict(ok and lat["p99"] < 0.050))
            )  # fmt: skip
        else:
            clean = r["lost"] == r["doubled"] == r["unexpected"] == 0
            who = "" if r.get("browser", True) else " (a client sending no Fetch Metadata)"
            self.targets.append(
                (f"{app} under load on {r['store']}{who}: whole flow, no error, no lost or doubled transfer",
                 f"{r['errors']} errors, {r['lost']} lost, {r['doubled']} doubled", _verdict(ok and clean))
            )  # fmt: skip
            if who:
                return self._load_errors(app, r)
            flows, target = r["done"] / r["seconds"], 2 * FLOW_BASELINE[server]
            self.targets.append(
                (f"{app} under load on {r['store']}: ≥ {target:.1f} flows/s (twice issue 20's "
                 f"{FLOW_BASELINE[server]}) with p99 per request < 50 ms",
                 f"{flows:,.1f} flows/s, p99 {per_request['p99'] * 1000:.1f} ms",
                 _verdict(ok and flows >= target and per_request["p99"] < 0.050))
            )  # fmt: skip
        self._load_errors(app, r)

    def _load_errors(self, app: str, r: dict[str, Any]) -> None:
        """A run's errors, listed under the table (not inside it)."""
        self.sections["load_errors"] += [f"- {app}: {e}" for e in [*r["error_samples"], *r["server_errors"]]]

    # -- the page ------------------------------------------------------------------------------

    def render(self) -> str:
        m = self.machine
        out = [
            "# Benchmarks",
            "",
            "Written by `make bench` (`python -m benchmarks`); do not edit by hand. What each part "
            "measures, and how, is in the docstrings of `benchmarks/`.",
            "",
            f"- Machine: {m['cpu']}, {m['cores']} cores; {m['os']}",
            f"- Python: {m['python']}",
            f"- Date: {m['date']}",
            f"- Command: `{self.command}` (ran in {self.seconds / 60:.1f} minutes)",
            "",
            "## Targets",
            "",
            "| target | measured | verdict |",
            "| --- | ---: | --- |",
            *(f"| {t} | {v} | {ok} |" for t, v, ok in self.targets),
            "",
            "## How it is measured",
            "",
            "- Each comparison runs its sides in one process, in rounds, alternating their order "
            "(A B C D, then D C B A); a side's figure is the median of its rounds, and a ratio is the "
            "median of the two sides' ratios within each round, so that a change of the machine's "
            "speed between rounds falls on both.",
            "- In-process timings (parts 1 and 2) are the thread's CPU time, with garbage collection "
            "run between batches, not inside them (as `timeit` does). The challenge path (part 3) is "
            "wall time on one thread: it includes SQLite's and Redis's waits.",
            "- The challenge path's rates move with the machine's speed, which on a shared machine "
            "changes from one minute to the next. Its rounds also time a fixed pure-Python loop "
            "(`reference` in `benchmarks/_harness.py`); compare two runs' rates in proportion to "
            "their loop times."
            + (
                " In this run the loop took " + ", ".join(f"{fmt_us(t)} ({name})" for name, t in self.speeds) + "."
                if self.speeds
                else ""
            ),
            "- No benchmark is a test: `make test` times nothing.",
            "",
        ]
        out += FINDINGS
        if self.sections["hot"]:
            out += [
                "## 1. Hot path, in process",
                "",
                "The same trivial route, four set-ups: the framework alone; with the app's session and "
                "login machinery (the route requires login); with stepup installed and the route "
                "unprotected; with `step_up_required(max_age=300)` and a session holding a valid "
                "grant. Each set-up is checked first: the route answers 200, and stepup's set-ups "
                "do not re-sign the session cookie.",
                "",
                *self.sections["hot"],
            ]
        if self.sections["peer"]:
            out += ["## 2. Peer: Flask-Security-Too's freshness check", "", *self.sections["peer"], ""]
        if self.sections["challenge"]:
            out += [
                "## 3. Challenge path",
                "",
                "`Engine.start` (an SMS code) then `Engine.verify` with the right code, on one thread, "
                "for users bound to numbers of their own. Four instances of each store are seeded with "
                "1,000 to 1,000,000 pending challenges (copies of a real challenge's record, each with "
                "its own id and its expiry), then timed in interleaved rounds. Bytes per pending "
                "challenge: memory:// by `tracemalloc` around the seeding (the record, its key, its "
                "expiry entry, and the growth of the store's tables: at 1,000 pending one resize of a "
                "table the whole store shares weighs on few records); redis:// by the server's "
                "`used_memory` around it, and `MEMORY USAGE` of one challenge's key. Limits are the "
                "defaults, but for the per-country and per-prefix SMS limits, which every benchmark "
                "SMS shares.",
                "",
                *self.sections["challenge"],
            ]
        if self.sections["load"]:
            out += [
                "## 4. Under load",
                "",
                "Each example bank in a production server on 127.0.0.1, with the examples' default "
                "store (SQLite; the whole flow also on redis://, a server of its own) and a file outbox, "
                "driven by `benchmarks/_loadgen.py` in a second process (keep-alive HTTP/1.1 clients on "
                "asyncio on uvloop) for a bounded time, on the same two cores as the server. Each client "
                "signs in as a user of its own; the rate limits are raised, since every request comes "
                "from one address. After the flow, the ledger is read back: every transfer a client "
                "saw executed must be there exactly once, and nothing else. p50 and p99 are per request "
                "for the protected route, per whole flow for the flow; the next column is per request in "
                "both. The flow's clients send the Fetch Metadata a browser sends with each navigation "
                "(`Sec-Fetch-Site`, `Sec-Fetch-Mode`...), so, as in a browser, a user with one method "
                "skips the choose page: the held login's code is sent and its answer is the code page, "
                "the transfer's goes through the choose page, which sends it (11 requests a flow). "
                "The last flow of each bank sends "
                "none, as a script or an older browser: it is sent to the choose page and picks its "
                "method there (14 requests, as every flow before stepup skipped the page).",
                "",
                *self.sections["load"],
                "",
                *([*self.sections["load_errors"], ""] if self.sections["load_errors"] else []),
            ]
        return "\n".join(out).rstrip() + "\n"


def _ceiling(server: str, server_cpu: float, driver_cpu: float) -> float:
    """The most a second the machine's CPU allows, at the CPU the server and the driver
    spent each: the cores they share, and no more than one core for a server of one worker."""
    cores = os.cpu_count() or 1
    ceiling = cores / (server_cpu + driver_cpu)
    return min(ceiling, 1 / server_cpu) if "1 worker" in server else ceiling


def _round_trips(commands: dict[str, float]) -> float:
    """Round trips per operation in ``commands`` (``INFO commandstats`` calls per operation)."""
    return sum(v for k, v in commands.items() if k in ROUND_TRIPS)
