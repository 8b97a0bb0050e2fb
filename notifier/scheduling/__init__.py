"""Jobs that notify and publish on time (APScheduler 3), and one active scheduler per database.
"""
