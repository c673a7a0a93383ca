mod demo;
mod migrations;
mod reference;
