package multi

// Empty is a service with no methods yet.
//
//rpcgen:service sys.empty
type Empty interface{}
