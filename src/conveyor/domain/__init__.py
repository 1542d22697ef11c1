"""Pure types and rules of Conveyor: no I/O, imports nothing else of ours but errors."""
