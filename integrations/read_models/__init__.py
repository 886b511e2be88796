"""Read models: what every surface shows the same way.

History, the timeline, the calendar feed, the portfolio's rows and filters. The dashboard, the
stage page, the API and the admin read these; none of them reads another surface's modules.
"""
