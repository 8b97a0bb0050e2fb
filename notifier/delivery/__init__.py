"""Telling customers: the directory, plan and send, the ledger, workers, mail transports, the
Event Webhook and proof of notice.
"""
