"""The HTTP edge every module's controller uses, one file per job:

* `commands`: declaring a command endpoint (route, command type, handler, status).
* `pipeline`: running a decoded command: idempotency, unit of work, outbox, bus, answer.
* `decoding`: a body decoded strictly once (400 for a wrong shape, 422 for a broken limit).
* `views`: reading a view once it has applied X-Min-Position; its X-View-Position.
* `pages`: keyset pagination cursors.
* `problems`: RFC 9457 answers, one table for every kind of refusal.
* `request_metrics`: request ids, the access log and per-route timings.
* `openapi`: the OpenAPI document, completed from the same declarations.
* `services`: what a request handler is given (pool, bus, clock...).
"""
