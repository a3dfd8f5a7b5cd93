"""The agent console: a static site (``index.html`` + ``app/``, plain ES modules) and, in
:mod:`console.site`, the facts about serving and building it that the local system
(``local/``) and the deployment (``infra/``) share."""
