"""The live sandbox panel: schema editor, migrations, environments, SQL console and terminal.

`service.PanelService` acts on a learner's workspace (one per context); `routes` are its URLs;
`create_app` (app.main) includes the router and `app.services` builds the service.
"""
