"""The pure side of monitoring: access records and threads (`records`), and the twins of contracts/data_access.vy
(`consent`) and contracts/access_log.vy (`log`)."""
