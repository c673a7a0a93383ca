mod demo;
mod indexes;
mod migrations;
mod reference;
