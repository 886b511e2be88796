"""The Jenkins plug-in: autotest builds close the autotest steps on evidence.

A PM links a Jenkins job to an integration and a part (``models.JenkinsJob``, its token shown
once); Jenkins' Notification plugin POSTs each build phase to ``/hooks/jenkins/`` (``views``),
which stores the delivery before answering; the worker applies it (``inbox``) to the job's runs
(``runs``); ``rules`` holds what the runs mean for the roadmap: the completion guard on "Passing
REST API autotests" and the steps that complete themselves.
"""
