"""The partner's stage page: its pages, isolation, magic links, calendar feeds and browser tests."""
