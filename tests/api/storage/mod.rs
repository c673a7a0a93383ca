mod migrations;
mod reference;
