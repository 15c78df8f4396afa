terraform {
  # The same floor as every lapse module (plantimestamp() in the window).
  required_version = ">= 1.5.0"
}
