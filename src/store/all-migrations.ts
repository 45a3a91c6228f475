// Every service's migrations, registered before any store opens. Add a service's file here.
import "../tables/migrations.js";
import "../events/migrations.js";
import "../workflows/migrations.js";
