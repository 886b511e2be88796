"""The partner's stage page: one partner's roadmap, live, and nothing of anyone else's."""
