"""grayscan.takedown: the SQLite store, the takedown queue, reports and account sharing.

Public API::

    from takedown import store, queue, report
    db = store.open_db("grayscan.db")
    store.upsert_posts(db, [...]); queue.enqueue(db, detections)
    report.write_report(db, "reports/", platform="weibo")
"""
