"""nbgrader settings inside a trainee's (or instructor's) container.

The exchange is not shared. Either the spawner bind-mounts only this trainee's folders (released
assignments read-only, their own inbound and feedback) under the stock layout
/srv/nbgrader/exchange/<cohort>/, so nbgrader's ordinary list/fetch/submit/fetch_feedback work unchanged;
or, when it sets BOOTCAMP_EXCHANGE_URL (hub setting exchange = "service"), nothing is mounted and
nbgrader's exchange plugins talk to the hub's exchange service (graders/hub/exchange_client.py) with this
server's hub token. The cohort and the hub user name come from the environment the spawner sets.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
c.CourseDirectory.course_id = os.environ.get("BOOTCAMP_COHORT", "")
# Submissions are named after the hub user, not the container's Unix user (always "jovyan").
if os.environ.get("JUPYTERHUB_USER"):
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]

if os.environ.get("BOOTCAMP_EXCHANGE_URL"):
    for step, plugin in {
        "exchange": "ServiceExchange",
        "fetch_assignment": "ExchangeFetchAssignment",
        "fetch_feedback": "ExchangeFetchFeedback",
        "submit": "ExchangeSubmit",
        "list": "ExchangeList",
    }.items():
        setattr(c.ExchangeFactory, step, f"graders.hub.exchange_client.{plugin}")
else:
    c.Exchange.root = "/srv/nbgrader/exchange"
