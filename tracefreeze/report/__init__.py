"""What the Court reads: the annual cooperation report, a request's status page,
the UI screenshot and the FollowTheMoney export."""
