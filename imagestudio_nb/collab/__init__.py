"""Joining jupyter-collaboration rooms from Python (DESIGN.md D2, D6)."""

from .room import RoomSession, join_project_room, open_collaboration_session

__all__ = ["RoomSession", "join_project_room", "open_collaboration_session"]
