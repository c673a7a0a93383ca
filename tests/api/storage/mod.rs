mod indexes;
mod migrations;
mod reference;
