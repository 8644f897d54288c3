"""Tamper-evident operation and security log (feature H5): one hash-chained table."""

from __future__ import annotations

from suite.audit.log import list_events, record, record_now
from suite.audit.models import KINDS, AuditEvent
from suite.audit.verify import AuditProblem, AuditVerification, verify

__all__ = ["KINDS", "AuditEvent", "AuditProblem", "AuditVerification", "list_events", "record", "record_now",
           "verify"]
