// placeholder, replaced by real tests
