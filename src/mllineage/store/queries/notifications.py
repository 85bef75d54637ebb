"""Owner notifications (store/notifications.py)."""

from __future__ import annotations

# Deliveries are :Notification nodes, never :Entity, with no relationships: walks, entity lists
# and reports never see them. Listed newest first; $before is the previous page's last
# [recorded_at, id].
RECORD_NOTIFICATION = """
CREATE (n:Notification)
SET n = $record, n.recorded_at = datetime($record.recorded_at)
"""

LIST_NOTIFICATIONS = """
MATCH (n:Notification)
WHERE ($owner = '' OR n.owner = $owner) AND ($status = '' OR n.status = $status)
  AND ($before_at = '' OR n.recorded_at < datetime($before_at)
       OR (n.recorded_at = datetime($before_at) AND n.id < $before_id))
WITH n ORDER BY n.recorded_at DESC, n.id DESC LIMIT $limit
RETURN n {.*, recorded_at: toString(n.recorded_at)} AS record
"""
