package reject_typeerror

// This type error does not touch S and alone would be tolerated.
var _ = undefinedElsewhere
