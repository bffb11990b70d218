"""`auditor pull`: a month of conversations from the helpdesk's API into an export folder.

http (one client: retries, rate limits, secrets kept out of messages), store (gzip JSONL files
rotated by size, the checkpoint a resumed pull continues from, manifest.json), common (the
window, ordered bounded concurrency, progress), and one module per helpdesk (intercom, zendesk).
"""
