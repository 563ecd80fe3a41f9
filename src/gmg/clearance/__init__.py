"""Joint texts and their clearance: versions, comments, rounds under the silence procedure,
the Principals' decisions on referred texts, notifications and publication."""
