"""The programs the anonymous mode's parties run: issuing blind tokens to members, queueing, checking and
submitting pseudonymous requests.

Layer `parties` of coordination/anonymous: imports its client, coordination's client and model, shared adapters
and the kernel; never its service or cli.
"""
